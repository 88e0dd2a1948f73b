using Microsoft.Extensions.Time.Testing;
using Writeback.Core.Contracts;
using Writeback.History;
using Writeback.Observability.Tests.Support;
using Writeback.Slo;
using Writeback.Steps.Contract;
using Writeback.Testing;

namespace Writeback.Observability.Tests.Slo;

public sealed class SloEvaluatorTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly DateTimeOffset Deadline = new(2026, 11, 25, 23, 0, 0, TimeSpan.Zero);
    private static readonly Deadline Contract = new() { Time = "08:00", TimeZone = "Asia/Tokyo" };

    [Theory]
    [InlineData(20, SloState.PredictedLate)]
    [InlineData(35, SloState.OnTime)]
    public async Task Predicted_late_is_the_remaining_steps_median_durations_crossing_the_deadline(int minutesBeforeDeadline, SloState expected)
    {
        // Three past runs took prepare 1m, load 30m, verify 2m, publish 5m; today's load started 5 minutes ago, so
        // 25m of load + 2m + 5m = 32m remain.
        var dataset = $"predict_{minutesBeforeDeadline}";
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 19, 0, 0, TimeSpan.Zero));
        await using var history = new RunHistory(database.ConnectionString, time);
        var runs = new SyntheticRuns(history, time);
        for (var day = 22; day <= 24; day++)
        {
            time.SetUtcNow(new DateTimeOffset(2026, 11, day, 19, 0, 0, TimeSpan.Zero));
            await runs.SucceedAsync(dataset, $"{dataset}-{day}", new DateOnly(2026, 11, day));
        }

        var loadStarted = Deadline - TimeSpan.FromMinutes(minutesBeforeDeadline) - TimeSpan.FromMinutes(5);
        time.SetUtcNow(loadStarted - SyntheticRuns.Prepare);
        await runs.TriggerAsync(dataset, $"{dataset}-25");
        await runs.PrepareAsync(dataset, $"{dataset}-25", new DateOnly(2026, 11, 25));
        await history.StepStartedAsync(new StepStart($"{dataset}-25", StepNames.LoadShard, 0));
        time.Advance(TimeSpan.FromMinutes(5));

        var evaluation = await new SloEvaluator(history).EvaluateAsync(new SloTarget(dataset, Contract));

        Assert.Equal(expected, evaluation.State);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMinutes(32), evaluation.PredictedEnd);
        Assert.Equal($"{dataset}-25", evaluation.BatchId);
        var typical = await history.TypicalDurationsAsync(dataset, 10);
        Assert.Equal(SyntheticRuns.Load, typical[StepNames.LoadShard]);
    }

    [Fact]
    public void Remaining_counts_the_unfinished_part_of_the_current_step_and_every_later_step()
    {
        var now = Deadline;
        var typical = new Dictionary<string, TimeSpan>
        {
            [StepNames.Prepare] = TimeSpan.FromMinutes(1),
            [StepNames.LoadShard] = TimeSpan.FromMinutes(30),
            [StepNames.Verify] = TimeSpan.FromMinutes(2),
            [StepNames.Publish] = TimeSpan.FromMinutes(5),
        };
        StepRun Step(string step, int minutesAgo, bool done) => new()
        {
            BatchId = "b", Step = step, Status = done ? StepStatus.Succeeded : StepStatus.Running,
            StartedAt = now - TimeSpan.FromMinutes(minutesAgo), EndedAt = done ? now : null,
        };

        Assert.Equal(TimeSpan.FromMinutes(38), SloEvaluator.Remaining([], typical, now));
        Assert.Equal(TimeSpan.FromMinutes(37), SloEvaluator.Remaining([Step(StepNames.Prepare, 1, true)], typical, now));
        Assert.Equal(TimeSpan.FromMinutes(7), SloEvaluator.Remaining([Step(StepNames.Prepare, 50, true), Step(StepNames.LoadShard, 45, false)], typical, now));
        Assert.Equal(TimeSpan.FromMinutes(4), SloEvaluator.Remaining([Step(StepNames.Verify, 3, true), Step(StepNames.Publish, 1, false)], typical, now));
        Assert.Null(SloEvaluator.Remaining([], new Dictionary<string, TimeSpan>(), now));
    }

    [Fact]
    public void Deadlines_fall_at_the_contract_time_in_its_zone_the_day_after_the_business_date()
    {
        var calendar = new DeadlineCalendar(Contract);

        Assert.Equal(Deadline, calendar.DeadlineFor(new DateOnly(2026, 11, 25)));
        Assert.Equal(new DateOnly(2026, 11, 24), calendar.LatestDue(Deadline - TimeSpan.FromTicks(1)));
        Assert.Equal(new DateOnly(2026, 11, 25), calendar.LatestDue(Deadline));
        Assert.Equal(new DateOnly(2026, 11, 25), calendar.CycleOf(Deadline - TimeSpan.FromHours(3)));
        Assert.Equal(new DateOnly(2026, 11, 26), calendar.CycleOf(Deadline + TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void A_deadline_in_a_zone_with_daylight_saving_keeps_its_local_time()
    {
        var calendar = new DeadlineCalendar(new Deadline { Time = "08:00", TimeZone = "Europe/Berlin" });

        Assert.Equal(new DateTimeOffset(2026, 7, 2, 6, 0, 0, TimeSpan.Zero), calendar.DeadlineFor(new DateOnly(2026, 7, 1)));
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 7, 0, 0, TimeSpan.Zero), calendar.DeadlineFor(new DateOnly(2026, 12, 1)));
    }
}
