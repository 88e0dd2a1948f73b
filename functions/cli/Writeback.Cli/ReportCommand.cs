using System.CommandLine;
using Writeback.Cli.Local;
using Writeback.Core.Contracts;
using Writeback.History;
using Writeback.Report;
using Writeback.Slo;

namespace Writeback.Cli;

/// <summary><c>writeback report --out report.html</c>: one self-contained HTML page of recent runs against their deadlines.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Where to write the HTML file.", DefaultValueFactory = _ => "report.html" };
        var runs = new Option<int>("--runs") { Description = "Recent batches per dataset.", DefaultValueFactory = _ => 14 };
        var historyUrl = new Option<string?>("--history-url")
        {
            Description = "Link each run to its execution history at this URL, {execution} standing for the execution's name (e.g. the AWS console's execution page); default: the local history file under .writeback/executions, when there is one.",
        };
        var command = new Command("report", "Write a single-file HTML report: a timeline chart of recent runs per dataset against their deadlines.") { output, runs, historyUrl };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (await CliDatabase.RequireAsync("report", cancellationToken) is not { } connectionString)
            {
                return 2;
            }

            await using var history = new RunHistory(connectionString);
            var targets = SloTarget.From(TargetCatalog.FromDirectory(ProjectPaths.Targets));
            var path = Path.GetFullPath(parse.GetValue(output)!);
            var model = await ReportBuilder.BuildAsync(history, targets, SloOptions.FromEnvironment(Environment.GetEnvironmentVariable), Math.Max(1, parse.GetValue(runs)),
                HistoryLink(parse.GetValue(historyUrl), Path.GetDirectoryName(path)!), cancellationToken);
            await File.WriteAllTextAsync(path, HtmlReport.Render(model), cancellationToken);
            Console.Out.WriteLine(path);
            Console.Error.WriteLine($"writeback report: {model.Datasets.Sum(d => d.Runs.Count)} runs of {model.Datasets.Count} datasets");
            return 0;
        });
        return command;
    }

    /// <summary>A template with {execution}, or the history file `serve` and the demo keep, relative to the report so the pair can move together.</summary>
    internal static Func<BatchRun, string?> HistoryLink(string? template, string reportFolder) => run =>
    {
        if (run.ExecutionName is not { Length: > 0 } name)
        {
            return null;
        }

        if (template is not null)
        {
            return template.Replace("{execution}", Uri.EscapeDataString(name), StringComparison.Ordinal);
        }

        var file = Path.Combine(ProjectPaths.ExecutionHistories(ProjectPaths.State), name + ".json");
        return File.Exists(file) ? string.Join('/', Path.GetRelativePath(reportFolder, file).Split(Path.DirectorySeparatorChar).Select(Uri.EscapeDataString)) : null;
    };
}
