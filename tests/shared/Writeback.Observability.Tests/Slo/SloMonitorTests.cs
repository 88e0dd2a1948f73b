using Microsoft.Extensions.Time.Testing;
using Writeback.Core.Contracts;
using Writeback.History;
using Writeback.Observability.Tests.Support;
using Writeback.Slo;
using Writeback.Slo.Alerts;
using Writeback.Testing;

namespace Writeback.Observability.Tests.Slo;

/// <summary>
/// Deadline 08:00 Asia/Tokyo (23:00 UTC the day before): business date 2026-11-25 is due 2026-11-25T23:00Z, and with
/// a two-hour lead time it is at risk from 21:00Z.
/// </summary>
public sealed class SloMonitorTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly DateOnly Yesterday = new(2026, 11, 24);
    private static readonly DateOnly Today = new(2026, 11, 25);
    private static readonly DateTimeOffset Deadline = new(2026, 11, 25, 23, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 19, 0, 0, TimeSpan.Zero));
    private readonly CollectingSink _sink = new();

    [Fact]
    public async Task A_batch_that_has_not_arrived_by_the_lead_time_raises_exactly_one_delay_alert()
    {
        var (monitor, runs, target) = await SetUpAsync("atrisk_ds");
        _time.SetUtcNow(Deadline - TimeSpan.FromHours(3));
        Assert.Equal(SloState.OnTime, (await monitor.CheckAsync(target)).Evaluation.State);

        _time.SetUtcNow(Deadline - TimeSpan.FromMinutes(90));
        var first = await monitor.CheckAsync(target);
        _time.Advance(TimeSpan.FromMinutes(5));
        var second = await monitor.CheckAsync(target);

        Assert.Equal((SloState.AtRisk, SloState.AtRisk), (first.Evaluation.State, second.Evaluation.State));
        var alert = Assert.Single(_sink.Alerts);
        Assert.Equal((AlertKind.Delay, "atrisk_ds", Today), (alert.Kind, alert.Dataset, alert.BusinessDate));
        Assert.Contains("no batch has arrived", alert.Message, StringComparison.Ordinal);
        Assert.Contains("2026-11-26 08:00 Asia/Tokyo", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_late_batch_raises_exactly_one_late_alert_however_often_it_is_checked()
    {
        var (monitor, _, target) = await SetUpAsync("late_ds");
        _time.SetUtcNow(Deadline + TimeSpan.FromMinutes(1));

        var results = new[] { await monitor.CheckAsync(target), await monitor.CheckAsync(target) };
        _time.Advance(TimeSpan.FromMinutes(5));
        var later = await monitor.CheckAsync(target);

        Assert.All(results.Append(later), r => Assert.Equal(SloState.Late, r.Evaluation.State));
        var alert = Assert.Single(_sink.Alerts);
        Assert.Equal((AlertKind.Delay, SloState.Late), (alert.Kind, alert.State));
        Assert.StartsWith("LATE: late_ds", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failure_raises_an_alert_at_once_with_its_cause()
    {
        var (monitor, runs, target) = await SetUpAsync("failure_ds");
        _time.SetUtcNow(Deadline - TimeSpan.FromHours(5));
        await runs.FailAsync("failure_ds", "failure-1", Today, "Writeback.InvalidBatch", "shard 0: sha256 mismatch");

        var first = await monitor.CheckAsync(target);
        var second = await monitor.CheckAsync(target);

        Assert.Equal(SloState.Failed, first.Evaluation.State);
        Assert.Null(second.Alert);
        var alert = Assert.Single(_sink.Alerts);
        Assert.Equal((AlertKind.Failure, "failure-1", "shard 0: sha256 mismatch"), (alert.Kind, alert.BatchId, alert.Cause));
        Assert.Contains("Writeback.InvalidBatch: shard 0: sha256 mismatch", alert.Message, StringComparison.Ordinal);
        Assert.Contains(SyntheticRuns.Traceparent("failure-1")[3..35], alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_failing_batch_raises_its_own_alert()
    {
        var (monitor, runs, target) = await SetUpAsync("refail_ds");
        _time.SetUtcNow(Deadline - TimeSpan.FromHours(5));
        await runs.FailAsync("refail_ds", "refail-1", Today, "Writeback.Conflict", "first");
        await monitor.CheckAsync(target);
        await runs.FailAsync("refail_ds", "refail-2", Today, "Writeback.Conflict", "second");

        await monitor.CheckAsync(target);

        Assert.Equal(["first", "second"], _sink.Alerts.Select(a => a.Cause));
    }

    [Fact]
    public async Task Recovery_sends_one_message_when_the_late_batch_is_applied()
    {
        var (monitor, runs, target) = await SetUpAsync("recovery_ds");
        _time.SetUtcNow(Deadline + TimeSpan.FromMinutes(10));
        await monitor.CheckAsync(target);
        await runs.SucceedAsync("recovery_ds", "recovery-late", Today);

        var recovered = await monitor.CheckAsync(target);
        var again = await monitor.CheckAsync(target);

        Assert.Equal([AlertKind.Delay, AlertKind.Recovery], _sink.Alerts.Select(a => a.Kind));
        Assert.Equal(SloState.OnTime, recovered.Evaluation.State);
        Assert.Equal(Today.AddDays(1), recovered.Evaluation.BusinessDate);
        Assert.Null(again.Alert);
        var recovery = _sink.Alerts[^1];
        Assert.StartsWith("RECOVERED: recovery_ds is back on time", recovery.Message, StringComparison.Ordinal);
        Assert.Equal(SloState.Late, recovery.PreviousState);
    }

    [Fact]
    public async Task A_batch_applied_before_its_deadline_raises_nothing()
    {
        var (monitor, runs, target) = await SetUpAsync("quiet_ds");
        _time.SetUtcNow(Deadline - TimeSpan.FromHours(4));
        await runs.SucceedAsync("quiet_ds", "quiet-1", Today);

        var met = await monitor.CheckAsync(target);
        _time.SetUtcNow(Deadline + TimeSpan.FromHours(1));
        var next = await monitor.CheckAsync(target);

        Assert.Equal((SloState.Met, SloState.OnTime), (met.Evaluation.State, next.Evaluation.State));
        Assert.Empty(_sink.Alerts);
    }

    [Fact]
    public async Task Every_alert_is_kept_in_history_and_a_failing_sink_does_not_stop_the_others()
    {
        var (history, runs) = History();
        var target = new SloTarget("sinks_ds", new Deadline { Time = "08:00", TimeZone = "Asia/Tokyo" });
        await runs.SucceedAsync("sinks_ds", "sinks-yesterday", Yesterday);
        var monitor = new SloMonitor(history, new SloEvaluator(history), [new BrokenSink(), _sink]);
        _time.SetUtcNow(Deadline + TimeSpan.FromMinutes(1));

        var result = await monitor.CheckAsync(target);

        Assert.Equal(["broken"], result.FailedSinks);
        Assert.Single(_sink.Alerts);
        var kept = await SloMonitor.RecentAlertsAsync(history, 50);
        Assert.Contains(kept, a => a.Dataset == "sinks_ds" && a.Kind == AlertKind.Delay);
    }

    [Fact]
    public async Task A_batch_applied_with_rejected_rows_raises_one_alert_that_says_how_many_and_names_no_value()
    {
        var (monitor, runs, target) = await SetUpAsync("rejects_ds");
        var (history, _) = History();
        await runs.SucceedAsync("rejects_ds", "rejects-today", Today, rejected: 7);
        _time.SetUtcNow(Deadline - TimeSpan.FromHours(1));

        await monitor.CheckAsync(target);
        await monitor.CheckAsync(target);

        var alert = Assert.Single(_sink.Alerts, a => a.Kind == AlertKind.RejectedRows);
        Assert.Equal(("rejects_ds", "rejects-today"), (alert.Dataset, alert.BatchId));
        Assert.Contains("batch rejects-today was applied without 7 of 100 rows that failed type, null or key checks", alert.Message, StringComparison.Ordinal);
        Assert.Contains(await SloMonitor.RecentAlertsAsync(history, 50), a => a.Dataset == "rejects_ds" && a.Kind == AlertKind.RejectedRows);
        Assert.Equal(7L, (await history.FindBatchAsync("rejects-today"))!.Rejected);
    }

    /// <summary>A monitor for one dataset whose previous business date was applied on time.</summary>
    private async Task<(SloMonitor Monitor, SyntheticRuns Runs, SloTarget Target)> SetUpAsync(string dataset)
    {
        var (history, runs) = History();
        await runs.SucceedAsync(dataset, dataset + "-yesterday", Yesterday);
        var monitor = new SloMonitor(history, new SloEvaluator(history, new SloOptions { LeadTime = TimeSpan.FromHours(2) }), [_sink]);
        return (monitor, runs, new SloTarget(dataset, new Deadline { Time = "08:00", TimeZone = "Asia/Tokyo" }));
    }

    private (RunHistory History, SyntheticRuns Runs) History()
    {
        var history = new RunHistory(database.ConnectionString, _time);
        return (history, new SyntheticRuns(history, _time));
    }

    private sealed class BrokenSink : IAlertSink
    {
        public string Name => "broken";

        public Task SendAsync(Alert alert, CancellationToken cancellationToken) => throw new AlertDeliveryException("down");
    }
}
