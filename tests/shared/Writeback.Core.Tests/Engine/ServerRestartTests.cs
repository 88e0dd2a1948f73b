using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>Runs on a private server: restarting the shared one would break every test running beside it.</summary>
public sealed class ServerRestartTests : IDisposable
{
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    [PrivatePostgresFact]
    public async Task PostgreSQL_restarted_between_every_step_is_transient_and_the_batch_completes()
    {
        await using var server = await PrivatePostgres.StartAsync();
        var target = ScoresTarget("restarted", LoadMode.ReplacePartition);
        var engine = CreateEngine(server.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("restarted-1", target.Dataset, [Scores(Day1, 300), Scores(Day1, 300, firstId: 301)], "2026-11-01");
        var transientFailures = 0;

        // What the state machine does: retry a step that failed with Writeback.Transient.
        async Task<T> Step<T>(Func<Task<T>> step)
        {
            await server.RestartAsync();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await step();
                }
                catch (Exception e) when (Failures.IsTransient(e) && attempt < 5)
                {
                    transientFailures++;
                }
            }
        }

        var prepared = await Step(() => engine.PrepareAsync(manifest, null, null, default));
        await Step(() => engine.LoadShardAsync(manifest, "restarted-1", 0, default));
        await Step(() => engine.LoadShardAsync(manifest, "restarted-1", 1, default));
        await Step(() => engine.VerifyAsync(manifest, "restarted-1", default));
        var published = await Step(() => engine.PublishAsync(manifest, "restarted-1", default));
        await Step(() => engine.CleanupAsync(manifest, "restarted-1", null, default));

        Assert.Equal(PrepareAction.Load, prepared.Action);
        Assert.Equal(PublishStatus.Applied, published.Status);
        Assert.Equal(600L, published.Inserted);
        NpgsqlConnection.ClearAllPools();
        Assert.Equal(600L, await ScalarAsync<long>(server.ConnectionString, "SELECT count(*) FROM test.restarted"));
        Assert.True(transientFailures >= 0);
    }
}
