using System.Globalization;
using Writeback.Core.Contracts;
using Writeback.History;
using Writeback.Steps.Contract;

namespace Writeback.Slo;

/// <summary>A dataset the SLO check watches: its name and the deadline from its contract.</summary>
public sealed record SloTarget(string Dataset, Deadline Deadline)
{
    /// <summary>The targets of a catalog that declare a deadline (the others have no SLO).</summary>
    public static IReadOnlyList<SloTarget> From(TargetCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return [.. catalog.Targets
            .Where(t => t.Contract.Deadline is not null)
            .Select(t => new SloTarget(t.Dataset, t.Contract.Deadline!))
            .OrderBy(t => t.Dataset, StringComparer.Ordinal)];
    }
}

/// <summary>
/// Decides a dataset's <see cref="SloState"/> from run history at the injected time. The business date being
/// watched is the latest one already due while it is not applied (it stays Late or Failed until it is), else the
/// next one.
/// </summary>
public sealed class SloEvaluator(RunHistory history, SloOptions? options = null)
{
    private readonly SloOptions _options = options ?? new SloOptions();

    /// <summary>How many recent batches per dataset are read; far more than two business dates ever have.</summary>
    private const int RecentBatches = 50;

    public SloOptions Options => _options;

    public async Task<SloEvaluation> EvaluateAsync(SloTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var now = history.Time.GetUtcNow();
        var runs = await history.RecentBatchesAsync(RecentBatches, target.Dataset, cancellationToken);
        var calendar = new DeadlineCalendar(target.Deadline, _options.DeadlineDaysAfterBusinessDate);
        var inFlight = runs.Where(r => RunStatus.IsInFlight(r.Status)).Select(r => r.BatchId).ToArray();
        var steps = await history.StepsAsync(inFlight, cancellationToken);
        var typical = inFlight.Length == 0
            ? new Dictionary<string, TimeSpan>()
            : await history.TypicalDurationsAsync(target.Dataset, _options.TypicalRuns, cancellationToken);
        return Evaluate(target.Dataset, calendar, now, runs, steps, typical, _options);
    }

    /// <summary>The decision itself, on data already read: runs newest first, steps of the in-flight runs.</summary>
    public static SloEvaluation Evaluate(
        string dataset,
        DeadlineCalendar calendar,
        DateTimeOffset now,
        IReadOnlyList<BatchRun> runs,
        IReadOnlyList<StepRun> steps,
        IReadOnlyDictionary<string, TimeSpan> typical,
        SloOptions options)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(options);
        var byDate = runs.ToLookup(r => BusinessDateOf(r, calendar));
        var due = calendar.LatestDue(now);
        var overdue = EvaluateDate(dataset, calendar, due, now, [.. byDate[due]], steps, typical, options);
        return overdue.State == SloState.Met
            ? EvaluateDate(dataset, calendar, due.AddDays(1), now, [.. byDate[due.AddDays(1)]], steps, typical, options)
            : overdue;
    }

    /// <summary>The partition when it is a date, else the cycle the run arrived in.</summary>
    public static DateOnly BusinessDateOf(BatchRun run, DeadlineCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(calendar);
        return DateOnly.TryParseExact(run.Partition, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : calendar.CycleOf(run.TriggeredAt ?? run.StartedAt);
    }

    private static SloEvaluation EvaluateDate(
        string dataset,
        DeadlineCalendar calendar,
        DateOnly businessDate,
        DateTimeOffset now,
        IReadOnlyList<BatchRun> runs,
        IReadOnlyList<StepRun> steps,
        IReadOnlyDictionary<string, TimeSpan> typical,
        SloOptions options)
    {
        var deadline = calendar.DeadlineFor(businessDate);
        var due = $"business date {businessDate:yyyy-MM-dd} due {calendar.Local(deadline)}";
        var result = new SloEvaluation
        {
            Dataset = dataset,
            State = SloState.OnTime,
            BusinessDate = businessDate,
            Deadline = deadline,
            TimeZone = calendar.ZoneId,
            EvaluatedAt = now,
            Detail = due,
        };

        var done = runs.Where(r => RunStatus.IsDone(r.Status)).OrderBy(r => r.EndedAt ?? r.StartedAt).FirstOrDefault();
        if (done is not null)
        {
            var appliedAt = done.EndedAt ?? done.StartedAt;
            var lateBy = appliedAt - deadline;
            return result with
            {
                State = SloState.Met,
                BatchId = done.BatchId,
                TraceId = done.TraceId,
                AppliedAt = appliedAt,
                Detail = $"{due}: batch {done.BatchId} {done.Status} at {calendar.Local(appliedAt)}"
                    + (lateBy > TimeSpan.Zero ? $", {Durations.Format(lateBy)} after the deadline" : ""),
            };
        }

        var latest = runs.OrderByDescending(r => r.TriggeredAt ?? r.StartedAt).FirstOrDefault();
        if (latest is { Status: RunStatus.Failed })
        {
            return result with
            {
                State = SloState.Failed,
                BatchId = latest.BatchId,
                TraceId = latest.TraceId,
                Error = latest.Error,
                Cause = latest.Cause,
                Detail = $"{due}: batch {latest.BatchId} failed: {latest.Error}: {latest.Cause}",
            };
        }

        if (deadline <= now)
        {
            return result with
            {
                State = SloState.Late,
                BatchId = latest?.BatchId,
                TraceId = latest?.TraceId,
                Detail = latest is null
                    ? $"{due}: no batch has arrived, {Durations.Format(now - deadline)} past the deadline"
                    : $"{due}: batch {latest.BatchId} is still {latest.Status} since {calendar.Local(latest.TriggeredAt ?? latest.StartedAt)}, {Durations.Format(now - deadline)} past the deadline",
            };
        }

        if (latest is null)
        {
            var atRisk = now >= deadline - options.LeadTime;
            return result with
            {
                State = atRisk ? SloState.AtRisk : SloState.OnTime,
                Detail = atRisk
                    ? $"{due}: no batch has arrived {Durations.Format(deadline - now)} before the deadline (lead time {Durations.Format(options.LeadTime)})"
                    : $"{due}: waiting for the batch ({Durations.Format(deadline - now)} to go)",
            };
        }

        var remaining = Remaining([.. steps.Where(s => s.BatchId == latest.BatchId)], typical, now);
        if (remaining is null)
        {
            return result with
            {
                BatchId = latest.BatchId,
                TraceId = latest.TraceId,
                Detail = $"{due}: batch {latest.BatchId} is {latest.Status}; no successful runs yet to predict its end from",
            };
        }

        var predictedEnd = now + remaining.Value;
        var late = predictedEnd > deadline;
        return result with
        {
            State = late ? SloState.PredictedLate : SloState.OnTime,
            BatchId = latest.BatchId,
            TraceId = latest.TraceId,
            PredictedEnd = predictedEnd,
            Detail = $"{due}: batch {latest.BatchId} is {latest.Status}, expected to finish at {calendar.Local(predictedEnd)} from recent runs' median step durations"
                + (late ? $", {Durations.Format(predictedEnd - deadline)} after the deadline" : ""),
        };
    }

    /// <summary>The phases that stand between a batch and its deadline (cleanup runs after publish made it visible).</summary>
    private static readonly IReadOnlyList<string> Phases = [StepNames.Prepare, StepNames.LoadShard, StepNames.Verify, StepNames.Publish];

    /// <summary>
    /// What is left of an in-flight run, from each phase's typical duration: phases before the furthest one started
    /// are done; the furthest one has its typical duration less what it has already run (unless it succeeded);
    /// later phases take their typical durations. Null when history has no typical duration to go on.
    /// </summary>
    public static TimeSpan? Remaining(IReadOnlyList<StepRun> steps, IReadOnlyDictionary<string, TimeSpan> typical, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(typical);
        if (typical.Count == 0)
        {
            return null;
        }

        var phases = Phases;
        var furthest = -1;
        for (var i = 0; i < phases.Count; i++)
        {
            if (steps.Any(s => s.Step == phases[i]))
            {
                furthest = i;
            }
        }

        var remaining = TimeSpan.Zero;
        for (var i = Math.Max(furthest, 0); i < phases.Count; i++)
        {
            var phaseTypical = typical.TryGetValue(phases[i], out var t) ? t : TimeSpan.Zero;
            if (i == furthest)
            {
                var phaseSteps = steps.Where(s => s.Step == phases[i]).ToArray();
                var finished = phaseSteps.All(s => s.EndedAt is not null) && phaseSteps.Any(s => s.Status == StepStatus.Succeeded);
                // Load-shard is finished only when the map is: verify starting is the proof, and it would be the furthest.
                if (finished && phases[i] != StepNames.LoadShard)
                {
                    continue;
                }

                var elapsed = now - phaseSteps.Min(s => s.StartedAt);
                remaining += phaseTypical > elapsed ? phaseTypical - elapsed : TimeSpan.Zero;
            }
            else
            {
                remaining += phaseTypical;
            }
        }

        return remaining;
    }
}

public static class Durations
{
    /// <summary>"2h05m", "7m30s", "12.4s", "35ms": short enough for an alert line.</summary>
    public static string Format(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = span.Negate();
        }

        return span.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:00}m")
            : span.TotalMinutes >= 1
                ? string.Create(CultureInfo.InvariantCulture, $"{span.Minutes}m{span.Seconds:00}s")
                : span.TotalSeconds >= 1
                    ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0}s")
                    : string.Create(CultureInfo.InvariantCulture, $"{span.TotalMilliseconds:0}ms");
    }
}
