using System.Text.Json.Serialization;
using Writeback.History;
using Writeback.Slo;
using Writeback.Steps.Contract;

namespace Writeback.Cli.Local.WebConsole;

/// <summary>
/// What the console's batch panel shows: one batch from run history, its steps folded per step as `status` folds them,
/// and the deadline of its business date as the SLO check sees it.
/// </summary>
internal sealed class BatchViews(RunHistory history, IReadOnlyList<SloTarget> targets, SloOptions options)
{
    private readonly SloEvaluator _evaluator = new(history, options);

    public async Task<BatchView?> FindAsync(string batchId, CancellationToken cancellationToken)
    {
        if (await history.FindBatchAsync(batchId, cancellationToken) is not { } run)
        {
            return null;
        }

        var steps = await history.StepsAsync([batchId], cancellationToken);
        return new BatchView(
            run.BatchId, run.Dataset, run.Partition, run.Status, run.Deliveries, run.Retries, run.TriggeredAt ?? run.StartedAt, run.EndedAt,
            run.Rows, run.Inserted, run.Updated, run.Deleted, run.Unchanged, run.Error, run.Cause, run.TraceId,
            [.. steps.GroupBy(s => s.Step).OrderBy(g => g.Min(s => s.StartedAt)).Select(Fold)],
            await DeadlineAsync(run, cancellationToken));
    }

    /// <summary>One line per step: the shards of load-shard fold into their wall time, totals and failed attempts.</summary>
    private static BatchStep Fold(IGrouping<string, StepRun> attempts)
    {
        var start = attempts.Min(s => s.StartedAt);
        DateTimeOffset? end = attempts.All(s => s.EndedAt is not null) ? attempts.Max(s => s.EndedAt) : null;
        var failed = attempts.Count(s => s.Status == StepStatus.Failed);
        var status = attempts.Any(s => s.Status == StepStatus.Running) ? StepStatus.Running
            : failed > 0 && attempts.All(s => s.Status == StepStatus.Failed) ? StepStatus.Failed
            : StepStatus.Succeeded;
        return new BatchStep(
            StepNames.DisplayName(attempts.Key), status, start, end, end is { } e ? (e - start).TotalMilliseconds : null,
            attempts.Where(s => s.ShardIndex >= 0).Select(s => s.ShardIndex).Distinct().Count(),
            attempts.Where(s => s.Status == StepStatus.Succeeded).Sum(s => s.Rows ?? 0),
            failed);
    }

    private async Task<BatchDeadline?> DeadlineAsync(BatchRun run, CancellationToken cancellationToken)
    {
        if (targets.FirstOrDefault(t => t.Dataset == run.Dataset) is not { } target)
        {
            return null;
        }

        var calendar = new DeadlineCalendar(target.Deadline, options.DeadlineDaysAfterBusinessDate);
        var businessDate = SloEvaluator.BusinessDateOf(run, calendar);
        var deadline = calendar.DeadlineFor(businessDate);
        var now = history.Time.GetUtcNow();
        // This batch against its own business date's deadline; the dataset's state is what `slo check` would say now.
        var outcome = run.Status switch
        {
            _ when RunStatus.IsDone(run.Status) => (run.EndedAt ?? run.StartedAt) <= deadline ? DeadlineOutcome.Met : DeadlineOutcome.Late,
            RunStatus.Failed => DeadlineOutcome.Failed,
            _ => now <= deadline ? DeadlineOutcome.OnTime : DeadlineOutcome.Late,
        };
        var slo = await _evaluator.EvaluateAsync(target, cancellationToken);
        return new BatchDeadline(
            businessDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), calendar.Local(deadline), outcome,
            slo.State.Name(), slo.Detail);
    }
}

internal sealed record BatchView(
    string BatchId, string? Dataset, string? Partition, string Status, int Deliveries, int Retries, DateTimeOffset Arrived, DateTimeOffset? Ended,
    long? Rows, long? Inserted, long? Updated, long? Deleted, long? Unchanged, string? Error, string? Cause, string? TraceId,
    IReadOnlyList<BatchStep> Steps, BatchDeadline? Deadline);

internal sealed record BatchStep(string Step, string Status, DateTimeOffset Started, DateTimeOffset? Ended, double? DurationMs, int Shards, long Rows, int FailedAttempts);

/// <param name="DatasetSlo">The dataset's SLO state now (SloStates.Name), with its detail.</param>
internal sealed record BatchDeadline(string BusinessDate, string Deadline, DeadlineOutcome Outcome, string DatasetSlo, string DatasetSloDetail);

/// <summary>One batch against its business date's deadline; the page shows the wire name.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeadlineOutcome>))]
internal enum DeadlineOutcome
{
    [JsonStringEnumMemberName("met")]
    Met,

    [JsonStringEnumMemberName("late")]
    Late,

    [JsonStringEnumMemberName("failed")]
    Failed,

    /// <summary>Still in flight, and the deadline has not passed.</summary>
    [JsonStringEnumMemberName("on_time")]
    OnTime,
}

internal sealed record ConsoleError(string Error, string Message);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(BatchView))]
[JsonSerializable(typeof(ConsoleError))]
internal sealed partial class ConsoleJson : JsonSerializerContext;
