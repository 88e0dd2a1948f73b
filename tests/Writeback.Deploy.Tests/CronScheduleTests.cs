namespace Writeback.Deploy.Tests;

public sealed class CronScheduleTests
{
    private static readonly TimeZoneInfo Utc = TimeZoneInfo.FindSystemTimeZoneById("Etc/UTC");
    private static readonly TimeZoneInfo Tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("0 6 * * *", "Etc/UTC", "2026-11-25T06:00:00Z", "2026-11-26T06:00:00+00:00")]
    [InlineData("0 6 * * *", "Etc/UTC", "2026-11-25T05:59:00Z", "2026-11-25T06:00:00+00:00")]
    [InlineData("0 5 * * *", "Asia/Tokyo", "2026-11-25T00:00:00Z", "2026-11-26T05:00:00+09:00")]
    [InlineData("30 5 * * *", "Asia/Tokyo", "2026-11-24T20:00:00Z", "2026-11-25T05:30:00+09:00")]
    [InlineData("*/15 * * * *", "Etc/UTC", "2026-11-25T10:07:00Z", "2026-11-25T10:15:00+00:00")]
    [InlineData("5-10/5 * * * *", "Etc/UTC", "2026-11-25T10:06:00Z", "2026-11-25T10:10:00+00:00")]
    [InlineData("45/20 * * * *", "Etc/UTC", "2026-11-25T10:46:00Z", "2026-11-25T11:45:00+00:00")]
    [InlineData("0 9 * * MON-FRI", "Asia/Tokyo", "2026-11-27T01:00:00Z", "2026-11-30T09:00:00+09:00")]
    [InlineData("0 0 1 JAN *", "Etc/UTC", "2026-03-01T00:00:00Z", "2027-01-01T00:00:00+00:00")]
    [InlineData("0 0 * * 7", "Etc/UTC", "2026-11-25T00:00:00Z", "2026-11-29T00:00:00+00:00")]
    [InlineData("0 0 29 2 *", "Etc/UTC", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00+00:00")]
    public void The_next_run_is_the_first_matching_minute_after_the_given_moment(string cron, string zone, string after, string expected)
    {
        var next = CronSchedule.Parse(cron).NextAfter(At(after), TimeZoneInfo.FindSystemTimeZoneById(zone));
        Assert.Equal(At(expected), next);
    }

    [Fact]
    public void When_both_day_fields_are_restricted_a_day_matching_either_fires()
    {
        // The 13th of the month or any Friday: 2026-11-13 is a Friday, 2026-11-20 a Friday, 2026-12-13 a Sunday.
        var schedule = CronSchedule.Parse("0 0 13 * FRI");
        Assert.Equal(At("2026-11-20T00:00:00Z"), schedule.NextAfter(At("2026-11-13T00:00:00Z"), Utc));
        Assert.Equal(At("2026-12-13T00:00:00Z"), schedule.NextAfter(At("2026-12-11T00:00:00Z"), Utc));
    }

    [Fact]
    public void A_local_time_that_daylight_saving_skips_does_not_fire_and_the_schedule_keeps_its_wall_clock()
    {
        // 2026-03-08 02:30 does not exist in New York; the next 02:30 is on 2026-03-09, now at UTC-4.
        var schedule = CronSchedule.Parse("30 2 * * *");
        Assert.Equal(At("2026-03-09T02:30:00-04:00"), schedule.NextAfter(At("2026-03-07T08:00:00Z"), NewYork));
        Assert.Equal(At("2026-03-07T02:30:00-05:00"), schedule.NextAfter(At("2026-03-06T08:00:00Z"), NewYork));
    }

    [Fact]
    public void The_same_expression_fires_at_different_instants_in_different_zones()
    {
        var schedule = CronSchedule.Parse("0 5 * * *");
        var after = At("2026-11-25T12:00:00Z");
        Assert.Equal(At("2026-11-25T20:00:00Z"), schedule.NextAfter(after, Tokyo));
        Assert.Equal(At("2026-11-26T05:00:00Z"), schedule.NextAfter(after, Utc));
    }

    [Theory]
    [InlineData("0 6 * *")]
    [InlineData("60 6 * * *")]
    [InlineData("0 24 * * *")]
    [InlineData("0 6 0 * *")]
    [InlineData("0 6 * 13 *")]
    [InlineData("0 6 * * 8")]
    [InlineData("0 6 * * FUNDAY")]
    [InlineData("10-5 6 * * *")]
    [InlineData("*/0 6 * * *")]
    public void A_malformed_expression_is_refused(string cron)
    {
        Assert.Throws<FormatException>(() => CronSchedule.Parse(cron));
    }

    [Fact]
    public void A_schedule_that_never_matches_a_real_day_has_no_next_run()
    {
        Assert.Null(CronSchedule.Parse("0 0 31 2 *").NextAfter(At("2026-01-01T00:00:00Z"), Utc));
    }
}
