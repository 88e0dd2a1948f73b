using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Writeback.Steps.Contract;

namespace Writeback.Cli.Local;

/// <summary>What one business date of a backfill came to.</summary>
/// <param name="Outcome">loaded, already applied, skipped (a newer batch holds the date) or failed.</param>
internal sealed record BackfillDate(DateOnly Date, string? BatchId, string Outcome, long Rows, TimeSpan Duration, string? Detail)
{
    public bool Succeeded => Outcome != BackfillRunner.Failed;
}

/// <summary>
/// How many batches may run at once: the writers' reserved concurrency (template.yaml's ConnectionBudget mapping at the
/// DbConnectionBudget default, which the local Lambda service enforces too) divided by what one batch holds of each
/// function (the Map's MaxConcurrency of LoadShard, one of every other step).
/// </summary>
internal sealed record ConnectionBudget(int MaxBatches, string Explanation)
{
    public static ConnectionBudget Read(string templatePath, string definitionPath)
    {
        var mapConcurrency = MapConcurrency(definitionPath);
        var functions = TemplateFunctions.Read(templatePath);
        var limits = StepNames.All
            .Select(step => functions.FirstOrDefault(f => f.Handler == step) is { ReservedConcurrency: { } reserved }
                ? (Step: step, Reserved: reserved, PerBatch: step == StepNames.LoadShard ? mapConcurrency : 1)
                : (Step: step, Reserved: int.MaxValue, PerBatch: 1))
            .ToList();
        var tightest = limits.MinBy(l => l.Reserved / l.PerBatch);
        var max = Math.Max(1, tightest.Reserved / tightest.PerBatch);
        return new ConnectionBudget(
            max,
            string.Create(CultureInfo.InvariantCulture,
                $"each batch holds up to {tightest.PerBatch} {tightest.Step} connection(s) (the Map's MaxConcurrency is {mapConcurrency}), and the connection budget " +
                $"(template.yaml DbConnectionBudget at its default, ConnectionBudget mapping) reserves {tightest.Reserved} for {tightest.Step}: at most {max} batch(es) at once"));
    }

    /// <summary>The largest MaxConcurrency of the definition's top-level Map states (0, unbounded, counts as 40: the inline Map's ceiling).</summary>
    private static int MapConcurrency(string definitionPath)
    {
        var states = JsonNode.Parse(File.ReadAllText(definitionPath))?["States"] as JsonObject ?? [];
        var maps = states.Select(s => s.Value).OfType<JsonObject>().Where(s => (string?)s["Type"] == "Map").ToList();
        return maps.Count == 0 ? 1 : maps.Max(m => m["MaxConcurrency"] is JsonValue v && (int)v > 0 ? (int)v : 40);
    }
}

/// <summary>
/// One batch per business date, each through the whole path as the demo sends one (export → event → trigger →
/// execution), started in date order, at most <c>parallel</c> at once. A rerun is the resume: every date is exported
/// again, and Prepare records a date whose content equals the batch the ledger last applied to it as applied without
/// loading a row, while a date that failed or never ran loads. The ordering rule holds as for any batch: each date is
/// its own partition, and a newer export of a date always wins over an older one still in flight.
/// </summary>
internal static class BackfillRunner
{
    public const string Loaded = "loaded";
    public const string AlreadyApplied = "already applied";
    public const string Skipped = "skipped";
    public const string Failed = "failed";

    public static IEnumerable<DateOnly> Dates(DateOnly from, DateOnly to)
    {
        for (var date = from; date <= to; date = date.AddDays(1))
        {
            yield return date;
        }
    }

    public static async Task<IReadOnlyList<BackfillDate>> RunAsync(
        DemoStack stack, string dataset, DateOnly from, DateOnly to, int parallel, IProgress<DemoProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stack);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallel, 1);
        using var slots = new SemaphoreSlim(parallel);
        var dates = Dates(from, to).ToList();
        var runs = new List<Task<BackfillDate>>();
        foreach (var date in dates)
        {
            // Taken here, in date order, so dates start in order whatever the parallelism.
            await slots.WaitAsync(cancellationToken);
            runs.Add(RunDateAsync(stack, dataset, date, dates.Count, progress, slots, cancellationToken));
        }

        return await Task.WhenAll(runs);
    }

    private static async Task<BackfillDate> RunDateAsync(
        DemoStack stack, string dataset, DateOnly date, int total, IProgress<DemoProgress> progress, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var label = string.Create(CultureInfo.InvariantCulture, $"{dataset} {date:yyyy-MM-dd} ({total} dates)");
            var d = await stack.RunDatasetAsync(dataset, date, progress, cancellationToken, label);
            var outcome = !d.Succeeded ? Failed : d.Action switch { StepAction.Load => Loaded, StepAction.Applied => AlreadyApplied, _ => Skipped };
            var detail = outcome switch
            {
                Failed => $"{d.Error}: {d.Cause}",
                Loaded => string.Create(CultureInfo.InvariantCulture, $"{d.Published?.Inserted ?? 0:N0} inserted, {d.Published?.Updated ?? 0:N0} updated, {d.Published?.Deleted ?? 0:N0} deleted"),
                _ => d.Result?.Reason,
            };
            return new BackfillDate(date, d.Aggregate.BatchId, outcome, d.Aggregate.Rows, clock.Elapsed, detail);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or HttpRequestException)
        {
            // One date's export or delivery failing is that date's outcome; the rest go on, and a rerun retries it.
            return new BackfillDate(date, null, Failed, 0, clock.Elapsed, e.Message);
        }
        finally
        {
            slots.Release();
        }
    }
}
