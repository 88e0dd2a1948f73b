using Writeback.Core.Contracts;
using Writeback.Slo;

namespace Writeback.Cli.Tests;

public sealed class CliDatesTests
{
    private static readonly Deadline Tokyo8 = new() { Time = "08:00", TimeZone = "Asia/Tokyo" };

    [Fact]
    public void Early_on_a_Tokyo_morning_the_default_date_is_Tokyo_yesterday_whose_deadline_is_next_not_UTC_yesterday()
    {
        // 06:40 on 2 December in Tokyo; in UTC it is still 1 December.
        var now = new DateTimeOffset(2026, 12, 1, 21, 40, 0, TimeSpan.Zero);

        Assert.True(CliDates.TryParseBusinessDate(null, "student_dashboard", now, out var date, out _));

        Assert.Equal(new DateOnly(2026, 12, 1), date);
        Assert.NotEqual(DateOnly.FromDateTime(now.UtcDateTime).AddDays(-1), date);
        // The SLO check's next deadline at that moment is this date's.
        Assert.Equal(date, new DeadlineCalendar(Tokyo8).CycleOf(now));
    }

    [Fact]
    public void Late_in_the_Tokyo_evening_the_default_date_is_the_day_whose_deadline_passed_this_morning()
    {
        var now = new DateTimeOffset(2026, 12, 1, 14, 0, 0, TimeSpan.Zero); // 23:00 on 1 December in Tokyo

        Assert.True(CliDates.TryParseBusinessDate(null, "class_summary", now, out var date, out _));

        Assert.Equal(new DateOnly(2026, 11, 30), date);
        Assert.Equal(date, new DeadlineCalendar(Tokyo8).LatestDue(now));
    }

    [Fact]
    public void A_given_date_wins_and_a_malformed_one_is_refused_with_an_example()
    {
        Assert.True(CliDates.TryParseBusinessDate("2026-03-04", "student_dashboard", DateTimeOffset.UtcNow, out var date, out _));
        Assert.Equal(new DateOnly(2026, 3, 4), date);

        Assert.False(CliDates.TryParseBusinessDate("04/03/2026", "student_dashboard", DateTimeOffset.UtcNow, out _, out var error));
        Assert.Contains("like 2026-11-25", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_finished_before_its_deadline_is_met_and_one_after_it_is_late_with_the_margin_in_local_time()
    {
        var date = new DateOnly(2026, 12, 1);

        var met = CliDates.Verdict(Tokyo8, date, new DateTimeOffset(2026, 12, 1, 21, 45, 0, TimeSpan.Zero));
        var late = CliDates.Verdict(Tokyo8, date, new DateTimeOffset(2026, 12, 4, 1, 30, 0, TimeSpan.Zero));

        Assert.Equal("met: finished 2026-12-02 06:45 Asia/Tokyo, 1 h 15 min before its deadline 2026-12-02 08:00 Asia/Tokyo", met);
        Assert.Equal("LATE: finished 2026-12-04 10:30 Asia/Tokyo, 2 days 2 h after its deadline 2026-12-02 08:00 Asia/Tokyo", late);
    }
}
