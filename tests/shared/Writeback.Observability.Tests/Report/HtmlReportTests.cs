using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Writeback.Core.Contracts;
using Writeback.History;
using Writeback.Observability.Tests.Support;
using Writeback.Report;
using Writeback.Slo;
using Writeback.Testing;

namespace Writeback.Observability.Tests.Report;

public sealed partial class HtmlReportTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly Deadline Contract = new() { Time = "08:00", TimeZone = "Asia/Tokyo" };

    [Fact]
    public async Task The_report_renders_in_headless_chromium_with_every_run_on_its_chart()
    {
        var (html, batches) = await RenderAsync();
        var folder = Directory.CreateTempSubdirectory("wb-report-");
        var path = Path.Combine(folder.FullName, "report.html");
        await File.WriteAllTextAsync(path, html);

        var dom = await HeadlessChromium.DumpDomAsync(path);

        // The rectangles exist only if the browser ran the page's script over its embedded data.
        Assert.DoesNotContain("<rect", html, StringComparison.Ordinal);
        Assert.Contains("data-rendered=\"true\"", dom, StringComparison.Ordinal);
        Assert.Contains($"Charted {batches.Count} runs.", dom, StringComparison.Ordinal);
        Assert.Equal(2, SvgCharts().Count(dom));
        foreach (var batch in batches)
        {
            Assert.Matches($"<rect [^>]*class=\"run [a-z]+ [a-z-]+\"[^>]*data-batch-id=\"{Regex.Escape(batch)}\"", dom);
        }

        Assert.Matches("<rect [^>]*class=\"run failed failed\"[^>]*data-batch-id=\"report-a-24\"", dom);
        Assert.Contains("class=\"deadline\"", dom, StringComparison.Ordinal);

        var screenshot = Environment.GetEnvironmentVariable("WRITEBACK_REPORT_SCREENSHOT");
        if (!string.IsNullOrEmpty(screenshot))
        {
            File.Copy(path, Path.ChangeExtension(screenshot, ".html"), overwrite: true);
            await HeadlessChromium.ScreenshotAsync(path, screenshot);
        }

        folder.Delete(recursive: true);
    }

    [Fact]
    public async Task The_report_is_one_file_with_no_external_assets_and_escapes_what_it_embeds()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 19, 0, 0, TimeSpan.Zero));
        await using var history = new RunHistory(database.ConnectionString, time);
        var runs = new SyntheticRuns(history, time);
        await runs.FailAsync("report_escape", "escape-1", new DateOnly(2026, 11, 25), "Writeback.InvalidBatch", "</script><img src=x onerror=alert(1)>");

        var html = HtmlReport.Render(await ReportBuilder.BuildAsync(history, [new SloTarget("report_escape", Contract)]));

        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.Single(ScriptEnd().Matches(html[..html.IndexOf("<script>", StringComparison.Ordinal)]));
        Assert.Contains("&lt;/script&gt;&lt;img", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Late_and_failed_runs_say_so_in_words_beside_their_colour_the_dataset_counts_them_and_each_run_links_to_its_history()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 20, 20, 0, 0, TimeSpan.Zero)); // 05:00 in Tokyo
        await using var history = new RunHistory(database.ConnectionString, time);
        var runs = new SyntheticRuns(history, time);
        await runs.SucceedAsync("report_verdicts", "on-time-20", new DateOnly(2026, 11, 20));
        time.SetUtcNow(new DateTimeOffset(2026, 11, 21, 23, 30, 0, TimeSpan.Zero)); // 08:30 in Tokyo: past the 08:00 deadline
        await runs.SucceedAsync("report_verdicts", "late-21", new DateOnly(2026, 11, 21));
        time.SetUtcNow(new DateTimeOffset(2026, 11, 22, 20, 0, 0, TimeSpan.Zero));
        await runs.FailAsync("report_verdicts", "failed-22", new DateOnly(2026, 11, 22), "Writeback.InvalidBatch", "shard 0: sha256 mismatch");

        var model = await ReportBuilder.BuildAsync(history, [new SloTarget("report_verdicts", Contract)], historyLink: run => $"executions/{run.BatchId}.json");
        var html = HtmlReport.Render(model);

        Assert.Matches("<tr class=\"late\" data-batch-id=\"late-21\">.*<span class=\"verdict late\">LATE by 1h08m</span>", html);
        Assert.Matches("<tr class=\"failed\" data-batch-id=\"failed-22\">.*<span class=\"verdict failed\">FAILED</span>", html);
        Assert.Matches("<tr class=\"met\" data-batch-id=\"on-time-20\">.*<span class=\"verdict met\">met, 2h22m early</span>", html);
        Assert.Contains("3 runs: <span class=\"verdict failed\">1 failed</span>, <span class=\"verdict late\">1 late</span>, <span class=\"verdict met\">1 met</span>", html, StringComparison.Ordinal);
        Assert.Matches("data-batch-id=\"late-21\">.*<td class=\"num\">100</td>", html);
        Assert.Contains("<a href=\"executions/late-21.json\">history</a>", html, StringComparison.Ordinal);

        // In the browser the chart marks them in words too, and the page is kept as a screenshot beside the test results.
        var folder = Environment.GetEnvironmentVariable("WRITEBACK_TEST_RESULTS") is { Length: > 0 } results ? results : Directory.CreateTempSubdirectory("wb-report-").FullName;
        var path = Path.Combine(folder, "report-verdicts.html");
        await File.WriteAllTextAsync(path, html);
        var dom = await HeadlessChromium.DumpDomAsync(path);
        Assert.Matches("<text [^>]*class=\"mark late\"[^>]*>LATE</text>", dom);
        Assert.Matches("<text [^>]*class=\"mark failed\"[^>]*>FAILED</text>", dom);
        Assert.Matches("<rect [^>]*class=\"run applied late\"[^>]*data-batch-id=\"late-21\"", dom);
        await HeadlessChromium.ScreenshotAsync(path, Path.Combine(folder, "report-verdicts.png"));
        Assert.True(new FileInfo(Path.Combine(folder, "report-verdicts.png")).Length > 10_000, "the screenshot is empty");
    }

    private async Task<(string Html, IReadOnlyList<string> Batches)> RenderAsync()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 19, 0, 0, TimeSpan.Zero));
        await using var history = new RunHistory(database.ConnectionString, time);
        var runs = new SyntheticRuns(history, time);
        var batches = new List<string>();
        for (var day = 22; day <= 25; day++)
        {
            time.SetUtcNow(new DateTimeOffset(2026, 11, day, 18 + (day % 3), 0, 0, TimeSpan.Zero));
            var date = new DateOnly(2026, 11, day);
            if (day == 24)
            {
                await runs.FailAsync("report_a", "report-a-24", date, "Writeback.InvalidBatch", "shard 0: sha256 mismatch");
                batches.Add("report-a-24");
                time.Advance(TimeSpan.FromHours(5));
            }

            await runs.SucceedAsync("report_a", $"report-a-{day}-ok", date);
            await runs.SucceedAsync("report_b", $"report-b-{day}", date);
            batches.Add($"report-a-{day}-ok");
            batches.Add($"report-b-{day}");
        }

        var model = await ReportBuilder.BuildAsync(history, [new SloTarget("report_a", Contract), new SloTarget("report_b", Contract)]);
        return (HtmlReport.Render(model), batches);
    }

    [GeneratedRegex("<svg [^>]*class=\"timeline\"")]
    private static partial Regex SvgCharts();

    [GeneratedRegex("</script>")]
    private static partial Regex ScriptEnd();
}
