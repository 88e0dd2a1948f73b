using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Loading;

/// <summary>
/// A shard is streamed row group by row group, reusing the column buffers: these shards have three row groups (10,000,
/// 10,000 and 5,001 rows), so every hand-over from one row group to the next is crossed.
/// </summary>
public sealed class ShardCopierTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private const int Rows = 25_001;

    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    [Fact]
    public async Task A_shard_of_several_row_groups_loads_every_row_once_with_its_values()
    {
        var target = ScoresTarget("copier_groups", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var rows = Scores(Day1, Rows).Select(r => r.Id % 50 == 8 ? r with { Score = null } : r.Id % 70 == 3 ? r with { Name = null } : r).ToList();

        var published = await RunAsync(engine, await _batches.WriteScoresAsync("copier-groups-1", target.Dataset, [rows], "2026-11-01"));

        Assert.Equal(Rows, published.Inserted);
        Assert.Equal(
            $"{Rows}|{rows.Sum(r => r.Id)}|{rows.Sum(r => (long)r.Minutes)}|{rows.Count(r => r.Name is null)}|{rows.Sum(r => r.Score ?? 0m):0.00}",
            await ScalarAsync<string>(database.ConnectionString, "SELECT count(DISTINCT id) || '|' || sum(id) || '|' || sum(minutes) || '|' || count(*) FILTER (WHERE name IS NULL) || '|' || sum(COALESCE(score, 0)) FROM test.copier_groups"));
    }

    [Fact]
    public async Task A_bad_value_in_a_later_row_group_fails_the_shard_naming_its_row_and_publishes_nothing()
    {
        var target = ScoresTarget("copier_bad", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var rows = Scores(Day1, Rows).Select(r => r.Id == 20_500 ? r with { Name = "eleven char" } : r).ToList();

        var failure = await Assert.ThrowsAsync<InvalidBatchException>(async () => await RunAsync(engine, await _batches.WriteScoresAsync("copier-bad-1", target.Dataset, [rows], "2026-11-01")));

        Assert.Contains("row 20500", failure.Message);
        Assert.Contains("'name'", failure.Message);
        Assert.Equal(0L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.copier_bad"));
    }
}
