using Writeback.Cli.Local;

namespace Writeback.Cli.Tests;

public sealed class ProgressLineTests
{
    private static readonly DemoProgress Loading = new("student_dashboard", "Load shards", 3, 8, 1_200_000, TimeSpan.FromSeconds(3), 3_000_000);

    [Fact]
    public void A_load_in_progress_reads_shards_rows_of_the_total_rate_and_time_left()
    {
        Assert.Equal("[student_dashboard] Load shards — shards 3/8, 1,200,000 of 3,000,000 rows, 400,000 rows/s, ETA 5 s", ProgressLine.Describe(Loading));
    }

    [Fact]
    public void Before_any_shard_is_done_there_is_no_rate_and_no_ETA_to_guess()
    {
        var text = ProgressLine.Describe(Loading with { ShardsLoaded = 0, RowsLoaded = 0 });

        Assert.Equal("[student_dashboard] Load shards — shards 0/8, 0 of 3,000,000 rows", text);
    }

    [Fact]
    public void On_a_terminal_updates_of_one_phase_rewrite_one_line_and_a_new_phase_starts_a_new_one()
    {
        var terminal = new StringWriter();
        var progress = new ProgressLine(terminal, interactive: true);

        progress.Report(Loading with { ShardsLoaded = 1, RowsLoaded = 400_000 });
        progress.Report(Loading);
        progress.Report(new DemoProgress("student_dashboard", "Verify"));
        progress.Done();

        var written = terminal.ToString();
        Assert.Equal(2, written.Count(c => c == '\n'));
        Assert.Equal(2, written.Split('\n')[0].Count(c => c == '\r'));
        Assert.Contains("\u001b[K", written, StringComparison.Ordinal);
        Assert.EndsWith("[student_dashboard] Verify\u001b[K\n", written.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Into_a_pipe_it_writes_plain_lines_one_per_phase_without_control_characters()
    {
        var log = new StringWriter();
        var progress = new ProgressLine(log, interactive: false);

        progress.Report(Loading with { ShardsLoaded = 1, RowsLoaded = 400_000 });
        progress.Report(Loading);
        progress.Report(new DemoProgress("student_dashboard", "Verify"));
        progress.Done();

        var lines = log.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["[student_dashboard] Load shards — shards 1/8, 400,000 of 3,000,000 rows, 133,333 rows/s, ETA 20 s", "[student_dashboard] Verify"], lines);
        Assert.DoesNotContain('\r', log.ToString());
        Assert.DoesNotContain('\u001b', log.ToString());
    }

    [Fact]
    public void Two_datasets_reporting_in_turn_into_a_pipe_write_a_line_per_phase_of_each_not_one_per_report()
    {
        var log = new StringWriter();
        var progress = new ProgressLine(log, interactive: false);

        for (var i = 0; i < 5; i++)
        {
            progress.Report(new DemoProgress("class_summary", "Route"));
            progress.Report(Loading);
        }

        progress.Report(new DemoProgress("class_summary", "Verify"));
        progress.Done();

        var lines = log.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["[class_summary] Route", ProgressLine.Describe(Loading), "[class_summary] Verify"], lines);
    }
}
