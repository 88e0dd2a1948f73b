using System.CommandLine;
using Writeback.Aggregate;
using Writeback.Aggregate.Export;
using Writeback.Aggregate.Warehouse;
using Writeback.Cli.Local;

namespace Writeback.Cli;

/// <summary><c>writeback dry-run</c>: what a batch would change, through the real workflow, writing nothing.</summary>
internal static class DryRunCommand
{
    public static Command Create()
    {
        var manifest = new Option<string?>("--manifest") { Description = "The batch's manifest: a path or file:// URI inside the export folder (.writeback/exports)." };
        var dataset = new Option<string?>("--dataset") { Description = "Export this dataset first (as demo does, without publishing its event) and dry-run that batch." };
        var date = new Option<string?>("--date") { Description = "With --dataset: the business date (yyyy-MM-dd); default: yesterday in the time zone of the dataset's deadline." };
        var size = new Option<string>("--size") { Description = "With --dataset: the sample warehouse size (small, medium or large).", DefaultValueFactory = _ => "small" };
        var json = new Option<bool>("--json") { Description = "Print the outcome as JSON (execution name, status, error, cause and the workflow's output) instead of text." };
        var command = new Command(
            "dry-run",
            "Run a batch through the real workflow with \"dryRun\": true: load it into staging, verify it, and report what Publish would insert, update and delete, with sample rows; nothing is written to the product table.")
        {
            manifest, dataset, date, size, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var manifestValue = parse.GetValue(manifest);
            var datasetValue = parse.GetValue(dataset);
            if ((manifestValue is null) == (datasetValue is null))
            {
                return Fail("give either --manifest URI or --dataset D [--date YYYY-MM-DD].");
            }

            if (!WarehouseSizes.TryParse(parse.GetValue(size), out var warehouseSize))
            {
                return Fail($"--size must be small, medium or large, not '{parse.GetValue(size)}'.");
            }

            if (await CliDatabase.RequireAsync("dry-run", cancellationToken) is not { } connectionString)
            {
                return 2;
            }

            string manifestUri;
            if (datasetValue is not null)
            {
                if (!CliDates.TryParseBusinessDate(parse.GetValue(date), datasetValue, DateTimeOffset.UtcNow, out var businessDate, out var dateError))
                {
                    return Fail(dateError);
                }

                var warehousePath = ProjectPaths.Warehouse(ProjectPaths.State, warehouseSize, SampleWarehouse.DefaultSeed);
                Console.Error.WriteLine($"writeback dry-run: exporting {datasetValue} for {businessDate:yyyy-MM-dd} from the {warehouseSize.Name()} sample warehouse (no event is published)");
                Directory.CreateDirectory(ProjectPaths.State);
                SampleWarehouse.Ensure(warehousePath, SampleWarehouse.DefaultSeed, warehouseSize, businessDate);
                try
                {
                    var export = await AggregateRunner.CreateLocal(new LocalAggregateOptions { WarehousePath = warehousePath, OutputRoot = ProjectPaths.Exports(ProjectPaths.State) })
                        .RunAsync(datasetValue, businessDate, cancellationToken);
                    manifestUri = export.ManifestUri;
                }
                catch (AggregateInputException e)
                {
                    return Fail(e.Message);
                }
            }
            else
            {
                manifestUri = manifestValue!.Contains("://", StringComparison.Ordinal) ? manifestValue : new Uri(Path.GetFullPath(manifestValue)).AbsoluteUri;
            }

            Console.Error.WriteLine($"writeback dry-run: {manifestUri}");
            using var functionLog = FunctionLog.Open(Path.Combine(ProjectPaths.State, "functions.log"));
            await using var aws = await LocalAwsSide.StartAsync(
                new LocalAwsSideOptions
                {
                    ConnectionString = connectionString,
                    IssuerKeyPath = ProjectPaths.IssuerKey(ProjectPaths.State),
                    ExportsFolder = ProjectPaths.Exports(ProjectPaths.State),
                    FunctionLog = functionLog.Write,
                    Host = "writeback dry-run",
                },
                cancellationToken);
            var outcome = await DryRunner.RunAsync(aws, manifestUri, cancellationToken);
            Console.Out.Write(parse.GetValue(json) ? outcome.ToJson().ToJsonString(ExecutionReport.Indented) + Environment.NewLine : DryRunner.Describe(outcome));
            return outcome.Succeeded ? 0 : 1;
        });
        return command;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"writeback dry-run: {message}");
        return 2;
    }
}
