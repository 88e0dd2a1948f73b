using System.CommandLine;
using System.Globalization;
using Writeback.Aggregate.Warehouse;
using Writeback.Cli.Local;
using Writeback.Core.Contracts;

namespace Writeback.Cli;

/// <summary><c>writeback backfill</c>: a range of past business dates, one batch each, through the whole local path.</summary>
internal static class BackfillCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = "The dataset to backfill (a target in targets/).", Required = true };
        var from = new Option<string>("--from") { Description = "First business date (yyyy-MM-dd).", Required = true };
        var to = new Option<string>("--to") { Description = "Last business date (yyyy-MM-dd), inclusive.", Required = true };
        var parallel = new Option<int>("--parallel")
        {
            Description = "Batches (dates) at once; at most what the writers' connection budget holds (template.yaml DbConnectionBudget: 2 at the default 32).",
            DefaultValueFactory = _ => 1,
        };
        var size = new Option<string>("--size") { Description = "Sample warehouse size: small, medium or large.", DefaultValueFactory = _ => "small" };
        var seed = new Option<long>("--seed") { Description = "Seed of the generated sample warehouse.", DefaultValueFactory = _ => SampleWarehouse.DefaultSeed };
        var command = new Command(
            "backfill",
            "Load a range of business dates, one batch per date through the whole path (export → event → trigger → execution), in date order. " +
            "Run it again to resume: dates already applied with the same content are recorded without loading, failed ones are retried.")
        {
            dataset, from, to, parallel, size, seed,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(dataset)!;
            if (!TargetCatalog.FromDirectory(ProjectPaths.Targets).Targets.Any(t => t.Dataset == name))
            {
                return Fail($"--dataset: no target contract for '{name}' in targets/ (known: {string.Join(", ", TargetCatalog.FromDirectory(ProjectPaths.Targets).Targets.Select(t => t.Dataset))}).");
            }

            if (!TryDate(parse.GetValue(from), "--from", out var first, out var error) || !TryDate(parse.GetValue(to), "--to", out var last, out error))
            {
                return Fail(error);
            }

            if (last < first)
            {
                return Fail($"--to {last:yyyy-MM-dd} is before --from {first:yyyy-MM-dd}.");
            }

            if (last.DayNumber - first.DayNumber + 1 > DemoStack.MaxDays)
            {
                return Fail($"{last.DayNumber - first.DayNumber + 1} dates is more than the sample warehouse spans ({DemoStack.MaxDays}); backfill the range in parts.");
            }

            var budget = ConnectionBudget.Read(Path.Combine(ProjectPaths.Root, "template.yaml"), ProjectPaths.WorkflowDefinition);
            var n = parse.GetValue(parallel);
            if (n < 1 || n > budget.MaxBatches)
            {
                return Fail($"--parallel {n} is refused: {budget.Explanation}. Use --parallel {budget.MaxBatches} or less (or deploy a larger DbConnectionBudget).");
            }

            if (!WarehouseSizes.TryParse(parse.GetValue(size), out var warehouseSize))
            {
                return Fail($"--size must be small, medium or large, not '{parse.GetValue(size)}'.");
            }

            if (await CliDatabase.RequireAsync("backfill", cancellationToken) is not { } connectionString)
            {
                return 2;
            }

            PubSubMode pubsub;
            try
            {
                pubsub = LocalPubSubOptions.ModeFrom(Environment.GetEnvironmentVariable);
            }
            catch (PubSubEmulatorException e)
            {
                return Fail(e.Message + ".");
            }

            var count = last.DayNumber - first.DayNumber + 1;
            Console.Error.WriteLine($"writeback backfill: {name}, {count} date(s) {first:yyyy-MM-dd} … {last:yyyy-MM-dd}, {n} at once");
            using var functionLog = FunctionLog.Open(Path.Combine(ProjectPaths.State, "functions.log"));
            var progress = new ProgressLine(Console.Error, interactive: !Console.IsErrorRedirected);
            IReadOnlyList<BackfillDate> dates;
            try
            {
                var options = new DemoOptions
                {
                    ConnectionString = connectionString, Size = warehouseSize, BusinessDate = first, Seed = parse.GetValue(seed), StateFolder = ProjectPaths.State,
                    Datasets = [name], FunctionLog = functionLog.Write,
                    Log = line =>
                    {
                        progress.Done();
                        Console.Error.WriteLine($"writeback backfill: {line}");
                    },
                    PubSub = new LocalPubSubOptions { Mode = pubsub },
                };
                await using var stack = await DemoStack.StartAsync(options, first, last, progress, cancellationToken);
                dates = await BackfillRunner.RunAsync(stack, name, first, last, n, progress, cancellationToken);
            }
            catch (PubSubEmulatorException e)
            {
                progress.Done();
                return Fail(e.Message + ".");
            }
            finally
            {
                progress.Done();
            }

            PrintSummary(Console.Out, dates);
            return dates.All(d => d.Succeeded) ? 0 : 1;
        });
        return command;
    }

    /// <summary>The table: date, batch, outcome, rows, duration; then what a rerun would do.</summary>
    public static void PrintSummary(TextWriter o, IReadOnlyList<BackfillDate> dates)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(dates);
        o.WriteLine();
        o.WriteLine($"{"date",-10}  {"batch",-55}  {"outcome",-15}  {"rows",10}  {"duration",9}");
        foreach (var d in dates)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{d.Date:yyyy-MM-dd}  {d.BatchId ?? "—",-55}  {d.Outcome,-15}  {d.Rows,10:N0}  {d.Duration.TotalSeconds,7:0.0} s"));
            if (d.Detail is { Length: > 0 } detail)
            {
                o.WriteLine($"{"",12}{detail}");
            }
        }

        var failed = dates.Count(d => !d.Succeeded);
        o.WriteLine();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{dates.Count(d => d.Outcome == BackfillRunner.Loaded)} loaded, {dates.Count(d => d.Outcome == BackfillRunner.AlreadyApplied)} already applied, " +
            $"{dates.Count(d => d.Outcome == BackfillRunner.Skipped)} skipped, {failed} failed")
            + (failed > 0 ? "; run the same command again to retry the failed dates (applied ones are not loaded twice)." : "."));
    }

    private static bool TryDate(string? text, string option, out DateOnly date, out string error)
    {
        error = "";
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date))
        {
            return true;
        }

        error = $"{option} must be a date like 2026-11-25, not '{text}'.";
        return false;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"writeback backfill: {message}");
        return 2;
    }
}
