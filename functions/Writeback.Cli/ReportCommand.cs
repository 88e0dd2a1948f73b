using System.CommandLine;
using Writeback.Cli.Local;
using Writeback.Core.Contracts;
using Writeback.Observability.History;
using Writeback.Observability.Report;
using Writeback.Observability.Slo;

namespace Writeback.Cli;

/// <summary><c>writeback report --out report.html</c>: one self-contained HTML page of recent runs against their deadlines.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Where to write the HTML file.", DefaultValueFactory = _ => "report.html" };
        var runs = new Option<int>("--runs") { Description = "Recent batches per dataset.", DefaultValueFactory = _ => 14 };
        var command = new Command("report", "Write a single-file HTML report: a timeline chart of recent runs per dataset against their deadlines.") { output, runs };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (await CliDatabase.RequireAsync("report", cancellationToken) is not { } connectionString)
            {
                return 2;
            }

            await using var history = new RunHistory(connectionString);
            var targets = SloTarget.From(TargetCatalog.FromDirectory(ProjectPaths.Targets));
            var model = await ReportBuilder.BuildAsync(history, targets, SloOptions.FromEnvironment(), Math.Max(1, parse.GetValue(runs)), cancellationToken);
            var path = Path.GetFullPath(parse.GetValue(output)!);
            await File.WriteAllTextAsync(path, HtmlReport.Render(model), cancellationToken);
            Console.Out.WriteLine(path);
            Console.Error.WriteLine($"writeback report: {model.Datasets.Sum(d => d.Runs.Count)} runs of {model.Datasets.Count} datasets");
            return 0;
        });
        return command;
    }
}
