using Writeback.Cli.Local;

namespace Writeback.Cli.Tests;

public sealed class DemoCommandTests
{
    [Fact]
    public void The_wall_time_line_separates_the_Maps_copy_of_every_dataset_from_everything_else()
    {
        var start = DateTimeOffset.UnixEpoch;
        StepTiming[] steps =
        [
            new("Prepare", start, TimeSpan.FromSeconds(1)),
            new("Load shards", start, TimeSpan.FromSeconds(12)),
            new("Publish", start, TimeSpan.FromSeconds(3)),
            new("Load shards", start, TimeSpan.FromSeconds(3)),
        ];

        var line = DemoCommand.WallTimeLine(TimeSpan.FromSeconds(60), steps);

        Assert.Equal("Wall time  60.0 s: loading rows (the Map's COPY) 15.0 s, everything else 45.0 s (75 % of the wall time)", line);
    }
}
