using System.Globalization;
using System.Text.Json.Nodes;

namespace Writeback.Deploy.Tests;

/// <summary>
/// The default Cloud Scheduler job (infra/) against every target's deadline (targets/): for each business date D, the
/// first scheduled run that produces D ("yesterday" in the aggregate's business time zone) plus the time the run may
/// take must land before D's deadline (the contract's time, on D + 1, in its zone).
/// </summary>
public sealed class ScheduleDeadlineTests
{
    /// <summary>
    /// Delivery, Step Functions and the load (Prepare → LoadShard × shards → Verify → Publish) once the export is written.
    /// A day's batch loads in minutes (bench/README.md); an hour leaves room for the steps' retries and cold starts.
    /// </summary>
    private static readonly TimeSpan LoadBudget = TimeSpan.FromMinutes(60);

    /// <summary>A whole year: every weekday and month, and both daylight-saving changes in zones that have them.</summary>
    private static IEnumerable<DateOnly> BusinessDates()
    {
        for (var d = new DateOnly(2026, 1, 1); d.Year == 2026; d = d.AddDays(1))
        {
            yield return d;
        }
    }

    public static TheoryData<string> Targets()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Repo.PathOf("targets"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_default_schedule_delivers_every_business_date_before_the_targets_deadline(string target)
    {
        var job = ScheduledJob.FromInfra();
        var deadline = TargetDeadline.Read(target);
        var budget = job.ExportBudget + LoadBudget;
        var late = new List<string>();
        foreach (var date in BusinessDates())
        {
            var run = FirstRunFor(date, job);
            if (run is not { } fire)
            {
                late.Add($"{date:yyyy-MM-dd}: no run of '{job.Cron.Expression}' ({job.CronZone.Id}) produces it on the next day in {job.BusinessZone.Id}");
                continue;
            }

            var due = deadline.For(date);
            if (fire + budget > due)
            {
                late.Add($"{date:yyyy-MM-dd}: fires {fire:yyyy-MM-dd HH:mm zzz}, done by {fire + budget:yyyy-MM-dd HH:mm zzz} at the latest, deadline {due:yyyy-MM-dd HH:mm zzz} ({fire + budget - due:g} late)");
            }
        }

        Assert.True(late.Count == 0,
            $"{target}: schedule '{job.Cron.Expression}' in {job.CronZone.Id} with a run budget of {budget:g} (export {job.ExportBudget:g} + load {LoadBudget:g}) "
            + $"misses {late.Count} of 365 deadlines, e.g.\n{string.Join('\n', late.Take(3))}");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_default_schedule_delivers_before_the_slo_check_starts_warning_that_nothing_arrived(string target)
    {
        // The SLO check warns when no batch has arrived a lead time before the deadline; a run that succeeds at its
        // first attempt must arrive before that, or the on-call is paged every morning for nothing.
        var job = ScheduledJob.FromInfra();
        var deadline = TargetDeadline.Read(target);
        var lead = TimeSpan.FromMinutes(SloLeadMinutes());
        foreach (var date in BusinessDates())
        {
            var fire = FirstRunFor(date, job) ?? throw new Xunit.Sdk.XunitException($"{date}: no run produces it");
            var warnsAt = deadline.For(date) - lead;
            Assert.True(fire + job.AttemptDeadline <= warnsAt,
                $"{target}, {date:yyyy-MM-dd}: the export may still be running at {fire + job.AttemptDeadline:HH:mm zzz}, after the SLO check warns at {warnsAt:HH:mm zzz}");
        }
    }

    [Fact]
    public void The_former_default_of_06_00_utc_delivers_yesterday_in_tokyo_seven_hours_after_the_08_00_deadline()
    {
        // The calculation above, on the schedule this repository used to ship: it must see the miss.
        var job = ScheduledJob.FromInfra() with { Cron = CronSchedule.Parse("0 6 * * *"), CronZone = TimeZoneInfo.FindSystemTimeZoneById("Etc/UTC") };
        var deadline = new TargetDeadline(new TimeOnly(8, 0), TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo"));
        var date = new DateOnly(2026, 11, 25);
        var fire = FirstRunFor(date, job with { BusinessZone = deadline.Zone });
        Assert.Equal(DateTimeOffset.Parse("2026-11-26T06:00:00Z", CultureInfo.InvariantCulture), fire);
        Assert.Equal(TimeSpan.FromHours(7), fire - deadline.For(date));
    }

    [Fact]
    public void A_schedule_that_skips_weekends_leaves_fridays_and_saturdays_without_a_batch()
    {
        var job = ScheduledJob.FromInfra() with { Cron = CronSchedule.Parse("0 5 * * MON-FRI"), CronZone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo") };
        var deadline = new TargetDeadline(new TimeOnly(8, 0), job.CronZone);
        Assert.Null(FirstRunFor(new DateOnly(2026, 11, 27), job with { BusinessZone = deadline.Zone })); // Friday: Saturday has no run
        Assert.NotNull(FirstRunFor(new DateOnly(2026, 11, 26), job with { BusinessZone = deadline.Zone }));
    }

    [Fact]
    public void The_aggregate_function_resolves_yesterday_in_the_configured_business_time_zone()
    {
        var service = Terraform.Resource("google_cloud_run_v2_service", "aggregate");
        var env = ((JsonArray)service["template"]![0]!["containers"]![0]!["env"]!).OfType<JsonObject>();
        Assert.Contains(env, e => (string?)e["name"] == "WRITEBACK_BUSINESS_TIME_ZONE" && (string?)e["value"] == "${var.business_time_zone}");
        var body = (string?)Terraform.Resource("google_cloud_scheduler_job", "aggregate")["http_target"]![0]!["body"];
        Assert.Contains("businessDate = \"yesterday\"", body, StringComparison.Ordinal);
    }

    /// <summary>The first run producing <paramref name="date"/>: the first firing on the next day in the business zone.</summary>
    private static DateTimeOffset? FirstRunFor(DateOnly date, ScheduledJob job)
    {
        var nextDay = date.AddDays(1);
        var midnight = Local(nextDay, TimeOnly.MinValue, job.BusinessZone);
        var fire = job.Cron.NextAfter(midnight.AddTicks(-1), job.CronZone);
        return fire is { } at && DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, job.BusinessZone).DateTime) == nextDay ? at : null;
    }

    private static DateTimeOffset Local(DateOnly day, TimeOnly time, TimeZoneInfo zone)
    {
        var wall = day.ToDateTime(time, DateTimeKind.Unspecified);
        // A wall time a DST change skips is read as the instant just after the gap.
        while (zone.IsInvalidTime(wall))
        {
            wall = wall.AddMinutes(1);
        }

        return new DateTimeOffset(wall, zone.GetUtcOffset(wall));
    }

    private static int SloLeadMinutes()
    {
        var template = CfnTemplate.Load(Repo.PathOf("template.yaml"));
        var slo = Assert.Single(template.ResourcesOfType("AWS::Serverless::Function"), f => (string?)f.Properties["Handler"] == "writeback-slo-check");
        return int.Parse((string)slo.Properties["Environment"]!["Variables"]!["WRITEBACK_SLO_LEAD_MINUTES"]!, CultureInfo.InvariantCulture);
    }

    /// <summary>The Cloud Scheduler job as infra/ creates it with the variables' defaults.</summary>
    private sealed record ScheduledJob(CronSchedule Cron, TimeZoneInfo CronZone, TimeZoneInfo BusinessZone, TimeSpan AttemptDeadline, int RetryCount, TimeSpan MinBackoff)
    {
        /// <summary>
        /// Every attempt Cloud Scheduler makes, each cut off at the attempt deadline, and the backoff between them
        /// (Cloud Scheduler doubles it after each retry): the latest a run whose last attempt succeeds has exported.
        /// </summary>
        public TimeSpan ExportBudget =>
            AttemptDeadline * (RetryCount + 1) + Enumerable.Range(0, RetryCount).Aggregate(TimeSpan.Zero, (sum, i) => sum + MinBackoff * Math.Pow(2, i));

        public static ScheduledJob FromInfra()
        {
            var job = Terraform.Resource("google_cloud_scheduler_job", "aggregate");
            Assert.Equal("${var.schedule}", (string?)job["schedule"]);
            Assert.Equal("${var.time_zone}", (string?)job["time_zone"]);
            var retry = job["retry_config"]![0]!;
            return new ScheduledJob(
                CronSchedule.Parse((string)Terraform.Default("schedule")!),
                TimeZoneInfo.FindSystemTimeZoneById((string)Terraform.Default("time_zone")!),
                TimeZoneInfo.FindSystemTimeZoneById((string)Terraform.Default("business_time_zone")!),
                Duration((string)job["attempt_deadline"]!),
                int.Parse(retry["retry_count"]!.ToString(), CultureInfo.InvariantCulture),
                Duration((string)retry["min_backoff_duration"]!));
        }

        private static TimeSpan Duration(string text) =>
            text.EndsWith('s') && int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                ? TimeSpan.FromSeconds(seconds)
                : throw new FormatException($"'{text}' is not a Cloud Scheduler duration like \"900s\"");
    }

    /// <summary>A target's deadline: the contract's time of day, in its zone, on the day after the business date.</summary>
    private sealed record TargetDeadline(TimeOnly Time, TimeZoneInfo Zone)
    {
        public DateTimeOffset For(DateOnly businessDate) => Local(businessDate.AddDays(1), Time, Zone);

        public static TargetDeadline Read(string file)
        {
            var contract = JsonNode.Parse(File.ReadAllText(Repo.PathOf("targets", file)))!;
            var deadline = contract["deadline"] ?? throw new Xunit.Sdk.XunitException($"{file} has no deadline");
            return new TargetDeadline(
                TimeOnly.ParseExact((string)deadline["time"]!, "HH:mm", CultureInfo.InvariantCulture),
                TimeZoneInfo.FindSystemTimeZoneById((string)deadline["timeZone"]!));
        }
    }
}
