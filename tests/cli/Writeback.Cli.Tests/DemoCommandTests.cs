using Writeback.Cli.Local;
using Writeback.Testing;

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

    [Fact]
    public async Task The_hint_to_stop_the_server_is_given_only_for_the_server_running_on_the_kept_data_directory()
    {
        var dataDirectory = Environment.GetEnvironmentVariable(TestPostgres.DataDirectoryVariable)!;

        Assert.True(await DemoCommand.IsServerOfAsync(TestPostgres.ServerConnectionString, dataDirectory, CancellationToken.None));
        Assert.False(await DemoCommand.IsServerOfAsync(TestPostgres.ServerConnectionString, Path.Combine(Path.GetTempPath(), ".writeback", "postgres", "data"), CancellationToken.None));
    }
}
