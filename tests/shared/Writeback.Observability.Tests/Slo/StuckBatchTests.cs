using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Ledger;
using Writeback.History;
using Writeback.Observability.Tests.Support;
using Writeback.Slo;
using Writeback.Slo.Alerts;
using Writeback.Testing;

namespace Writeback.Observability.Tests.Slo;

/// <summary>
/// The SLO check finds a batch left prepared by an execution that died, fails it, drops its staging and alerts naming
/// it. The ledger row and its staging table are made by SQL here (the load engine's own tests cover how they come
/// about); the batch's age is set by moving prepared_at back, so nothing waits.
/// </summary>
public sealed class StuckBatchTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly DateOnly Today = new(2026, 11, 25);
    private static readonly DateTimeOffset Deadline = new(2026, 11, 25, 23, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Deadline - TimeSpan.FromHours(3));
    private readonly CollectingSink _sink = new();

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task PreparedLedgerRowAsync(string dataset, string batchId, TimeSpan age)
    {
        await ExecuteAsync(LedgerSchema.Ddl);
        await ExecuteAsync($"""
            INSERT INTO writeback.batches (batch_id, dataset, target, partition_value, sequence, fingerprint, shard_count, total_rows, status, prepared_at)
            VALUES ('{batchId}', '{dataset}', 'test.{dataset}', '2026-11-25', 1, 'f', 2, 50, 'prepared', now() - interval '{(long)age.TotalSeconds} seconds');
            CREATE UNLOGGED TABLE {LedgerSchema.StagingTable(batchId)} (id bigint, _wb_shard integer NOT NULL, _wb_row bigint NOT NULL);
            """);
    }

    [Fact]
    public async Task A_stuck_prepared_batch_is_failed_its_staging_dropped_and_an_alert_names_it()
    {
        var history = new RunHistory(database.ConnectionString, _time);
        var runs = new SyntheticRuns(history, _time);
        await runs.SucceedAsync("stuck_ds", "stuck-ds-yesterday", Today.AddDays(-1));
        await runs.PrepareAsync("stuck_ds", "stuck-ds-1", Today);
        await PreparedLedgerRowAsync("stuck_ds", "stuck-ds-1", StuckBatchSweeper.DefaultStuckAfter + TimeSpan.FromMinutes(5));
        var monitor = new SloMonitor(history, new SloEvaluator(history), [_sink], sweepStuckBatches: true);
        var target = new SloTarget("stuck_ds", new Deadline { Time = "08:00", TimeZone = "Asia/Tokyo" });

        var results = await monitor.CheckAsync([target]);

        Assert.Equal(SloState.Failed, Assert.Single(results).Evaluation.State);
        var alert = Assert.Single(_sink.Alerts);
        Assert.Equal((AlertKind.Failure, "stuck-ds-1"), (alert.Kind, alert.BatchId));
        Assert.Contains(SloMonitor.StuckError, alert.Message, StringComparison.Ordinal);
        Assert.Contains("stuck: still prepared", alert.Cause, StringComparison.Ordinal);
        Assert.Equal("failed", await ScalarAsync<string>("SELECT status FROM writeback.batches WHERE batch_id = 'stuck-ds-1'"));
        Assert.False(await ScalarAsync<bool>($"SELECT to_regclass('{LedgerSchema.StagingTable("stuck-ds-1")}') IS NOT NULL"));

        // Checked again: nothing more to sweep and no second alert.
        await monitor.CheckAsync([target]);
        Assert.Single(_sink.Alerts);
    }

    [Fact]
    public void The_default_bound_outlasts_the_state_machine_timeout()
    {
        var definition = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Repo(), "statemachines", "writeback.asl.json")))!;
        var timeout = TimeSpan.FromSeconds((int)definition["TimeoutSeconds"]!);

        Assert.True(new SloOptions().StuckAfter > timeout, $"{new SloOptions().StuckAfter} must exceed the executions' {timeout}");
    }

    private static string Repo() => Writeback.Testing.RepositoryRoot.Path;
}
