using Npgsql;
using Parquet.Schema;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>On a private server, which these tests crash.</summary>
public sealed class RejectedRowsCrashTests : IDisposable
{
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    private static ShardColumnData[] Rows(int firstId, params int[] tooLong)
    {
        var rows = Scores(Day1, 20, firstId: firstId).Select(r => tooLong.Contains((int)r.Id) ? r with { Name = "this-name-is-too-long" } : r).ToList();
        return ScoreColumns(rows);
    }

    /// <summary>What the state machine does with Writeback.Transient: the pool's connections died with the server.</summary>
    private static async Task<T> RetryTransientAsync<T>(Func<Task<T>> step)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step();
            }
            catch (Exception e) when (Failures.IsTransient(e) && attempt < 5)
            {
            }
        }
    }

    [PrivatePostgresFact]
    public async Task A_crash_after_the_shards_loaded_makes_them_load_again_and_their_rejects_are_not_doubled()
    {
        await using var server = await PrivatePostgres.StartAsync();
        var target = ScoresTarget("rej_crash", LoadMode.ReplacePartition) with { MaxRejectedRows = 10 };
        var engine = CreateEngine(server.ConnectionString, target);
        var manifest = await _batches.WriteBatchAsync("rej-crash-1", target.Dataset, [Rows(1, 3, 5), Rows(21, 22)], ScoresSchema, "2026-11-01");
        var prepared = await engine.PrepareAsync(manifest, null, null, default);
        await engine.LoadShardAsync(manifest, prepared.BatchId, 0, default);
        await engine.LoadShardAsync(manifest, prepared.BatchId, 1, default);

        // pg_ctl -m immediate: recovery empties staging (unlogged) and keeps the logged ledger and rejects.
        await server.CrashAndRestartAsync();
        NpgsqlConnection.ClearAllPools();
        await Assert.ThrowsAsync<ReloadRequiredException>(() => RetryTransientAsync(() => engine.VerifyAsync(manifest, prepared.BatchId, default)));
        await engine.LoadShardAsync(manifest, prepared.BatchId, 0, default);
        await engine.LoadShardAsync(manifest, prepared.BatchId, 1, default);
        await engine.VerifyAsync(manifest, prepared.BatchId, default);
        var published = await engine.PublishAsync(manifest, prepared.BatchId, default);

        Assert.Equal(new PublishResult("rej-crash-1", PublishStatus.Applied, 37, 0, 0, 0, null), published);
        Assert.Equal(3L, await ScalarAsync<long>(server.ConnectionString, "SELECT count(*) FROM writeback.rejects WHERE batch_id = 'rej-crash-1'"));
        Assert.Equal(3L, (await engine.ReadRejectsAsync("rej-crash-1", default)).Count);
        Assert.Equal(0L, await ScalarAsync<long>(server.ConnectionString, "SELECT count(*) FROM test.rej_crash WHERE name = 'this-name-is-too-long' OR id IN (3, 5, 22)"));
    }
}
