using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>
/// A re-apply with the server crashing (<c>pg_ctl -m immediate</c>: unlogged staging comes back empty) after the load
/// and again after Verify: each lost staging is reloaded, and the day ends as a full rewrite's. Runs on a private server.
/// </summary>
public sealed class ReapplyCrashTests : IDisposable
{
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    [PrivatePostgresFact]
    public async Task A_crash_after_the_load_and_another_after_verify_still_end_in_the_full_rewrite_s_rows()
    {
        await using var server = await PrivatePostgres.StartAsync();
        var target = ScoresTarget("reapply_crash", LoadMode.ReplacePartition);
        var rewrite = ScoresTarget("reapply_crash_rewrite", LoadMode.ReplacePartition);
        var engine = CreateEngine(server.ConnectionString, target, rewrite);
        var first = ReapplyTests.WithNulls(Scores(Day1, 1000));
        var second = ReapplyTests.Edited(first);
        await RunAsync(engine, await _batches.WriteScoresAsync("crash-1", target.Dataset, [first], "2026-11-01"));
        var manifest = await _batches.WriteScoresAsync("crash-2", target.Dataset, [second[..500], second[500..]], "2026-11-01", sequence: 2);

        await engine.PrepareAsync(manifest, null, null, default);
        await engine.LoadShardAsync(manifest, "crash-2", 0, default);
        await engine.LoadShardAsync(manifest, "crash-2", 1, default);
        await CrashAsync(server);
        var afterLoad = await Record.ExceptionAsync(() => Step(() => engine.VerifyAsync(manifest, "crash-2", default)));
        await Step(() => engine.LoadShardAsync(manifest, "crash-2", 0, default));
        await Step(() => engine.LoadShardAsync(manifest, "crash-2", 1, default));
        await Step(() => engine.VerifyAsync(manifest, "crash-2", default));
        await CrashAsync(server);
        var afterVerify = await Record.ExceptionAsync(() => Step(() => engine.PublishAsync(manifest, "crash-2", default)));
        var untouched = await TableDigestAsync(server.ConnectionString, "test.reapply_crash");
        var published = await Step(() => RunAsync(engine, manifest));
        await RunAsync(engine, await _batches.WriteScoresAsync("crash-rewrite", rewrite.Dataset, [second], "2026-11-01"));

        Assert.IsType<ReloadRequiredException>(afterLoad);
        Assert.IsType<ReloadRequiredException>(afterVerify);
        Assert.Equal(await DigestOfAsync(server, first), untouched);
        Assert.Equal((20L, 80L, 40L), (published.Inserted, published.Updated, published.Deleted));
        Assert.Equal(await TableDigestAsync(server.ConnectionString, "test.reapply_crash_rewrite"), await TableDigestAsync(server.ConnectionString, "test.reapply_crash"));
    }

    /// <summary>What the state machine does: a step that failed with Writeback.Transient (a connection the crash broke) runs again.</summary>
    private static async Task<T> Step<T>(Func<Task<T>> step)
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

    private static async Task CrashAsync(PrivatePostgres server)
    {
        await server.CrashAndRestartAsync();
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>What the table holds when it holds exactly <paramref name="rows"/>: loaded fresh into a scratch table.</summary>
    private static async Task<string> DigestOfAsync(PrivatePostgres server, IReadOnlyList<ScoreRow> rows)
    {
        await ExecuteAsync(server.ConnectionString, "CREATE TABLE IF NOT EXISTS test.reapply_crash_expected (LIKE test.reapply_crash); TRUNCATE test.reapply_crash_expected");
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using (var writer = await connection.BeginBinaryImportAsync("COPY test.reapply_crash_expected (id, day, name, score, minutes) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows)
            {
                await writer.WriteRowAsync(default, row.Id, row.Day, row.Name, row.Score, row.Minutes);
            }

            await writer.CompleteAsync();
        }

        return await TableDigestAsync(server.ConnectionString, "test.reapply_crash_expected");
    }
}
