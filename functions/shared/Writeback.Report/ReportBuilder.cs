using Writeback.History;
using Writeback.Slo;
using Writeback.Steps.Contract;

namespace Writeback.Report;

/// <summary>Reads what the report shows: each watched dataset's SLO state and recent runs with their steps.</summary>
public static class ReportBuilder
{
    /// <param name="historyLink">Where a run's execution history can be read (null: nowhere known).</param>
    public static async Task<ReportModel> BuildAsync(
        RunHistory history, IReadOnlyList<SloTarget> targets, SloOptions? options = null, int runsPerDataset = 14,
        Func<BatchRun, string?>? historyLink = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(targets);
        options ??= new SloOptions();
        var evaluator = new SloEvaluator(history, options);
        var now = history.Time.GetUtcNow();
        var datasets = new List<ReportDataset>();
        foreach (var target in targets)
        {
            var calendar = new DeadlineCalendar(target.Deadline, options.DeadlineDaysAfterBusinessDate);
            var evaluation = await evaluator.EvaluateAsync(target, cancellationToken);
            var runs = await history.RecentBatchesAsync(runsPerDataset, target.Dataset, cancellationToken);
            var steps = (await history.StepsAsync([.. runs.Select(r => r.BatchId)], cancellationToken)).ToLookup(s => s.BatchId);
            datasets.Add(new ReportDataset(
                target.Dataset,
                $"{target.Deadline.Time} {target.Deadline.TimeZone}",
                evaluation.State.Name(),
                evaluation.Detail,
                [.. runs.Select(run =>
                {
                    var businessDate = SloEvaluator.BusinessDateOf(run, calendar);
                    var deadline = calendar.DeadlineFor(businessDate);
                    return new ReportRun(
                        run.BatchId, run.Status, businessDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                        deadline, run.TriggeredAt ?? run.StartedAt, run.EndedAt, run.Rows, run.Bytes, run.Retries,
                        run.Error is null ? null : $"{run.Error}: {run.Cause}", run.TraceId,
                        [.. steps[run.BatchId].Select(s => new ReportStep(StepNames.DisplayName(s.Step) + (s.ShardIndex >= 0 ? $" #{s.ShardIndex}" : ""), s.Status, s.StartedAt, s.EndedAt))])
                    {
                        Verdict = Timeliness.Of(run.Status, run.EndedAt, deadline, now),
                        MarginMinutes = ((run.EndedAt ?? now) - deadline).TotalMinutes,
                        Inserted = run.Inserted,
                        Updated = run.Updated,
                        Deleted = run.Deleted,
                        Unchanged = run.Unchanged,
                        Rejected = run.Rejected,
                        HistoryLink = historyLink?.Invoke(run),
                    };
                })]));
        }

        return new ReportModel(now, datasets);
    }
}
