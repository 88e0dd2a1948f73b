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
/// Every applied rollback is told once, with who and why, whoever started it: the ledger rows are made by SQL here (the
/// load engine's tests cover how a rollback is applied).
/// </summary>
public sealed class RollbackAlertTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 3, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);
    private readonly CollectingSink _sink = new();

    private static async Task RollbackAsync(NpgsqlDataSource dataSource, string batchId, string status)
    {
        await using var command = dataSource.CreateCommand(LedgerSchema.Ddl + $"""
            INSERT INTO writeback.batches (batch_id, dataset, target, partition_value, sequence, fingerprint, shard_count, total_rows, status)
            VALUES ('{batchId}', 'rb_alert', 'test.rb_alert', '2026-11-25', 1, 'f', 1, 10, 'applied');
            INSERT INTO writeback.rollbacks (batch_id, replaces, target, partition_value, requested_by, reason, status, applied_at)
            VALUES ('{batchId}', '{batchId}-newer', 'test.rb_alert', '2026-11-25', 'alice', 'the newer batch doubled the minutes', '{status}',
                    CASE WHEN '{status}' = 'applied' THEN now() END);
            """);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task An_applied_rollback_is_alerted_once_naming_both_batches_who_and_why_and_kept_in_run_history()
    {
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        await using var history = new RunHistory(dataSource, _time);
        await RollbackAsync(dataSource, "rb-alert-1", "applied");
        await RollbackAsync(dataSource, "rb-alert-2", "requested");
        var monitor = new SloMonitor(history, new SloEvaluator(history), [_sink]);
        SloTarget[] targets = [new("rb_alert", new Deadline { Time = "08:00", TimeZone = "Asia/Tokyo" })];

        var first = await monitor.AlertRollbacksAsync(targets);
        var second = await monitor.AlertRollbacksAsync(targets);

        var alert = Assert.Single(_sink.Alerts);
        Assert.Equal(alert, Assert.Single(first).Alert);
        Assert.Empty(second);
        Assert.Equal(AlertKind.Rollback, alert.Kind);
        Assert.Equal("ROLLED BACK: rb_alert 2026-11-25 holds batch rb-alert-1 again, replacing rb-alert-1-newer; by alice: the newer batch doubled the minutes", alert.Message);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 23, 0, 0, TimeSpan.Zero), alert.Deadline);
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM writeback_runs.alerts WHERE kind = 'rollback' AND batch_id = 'rb-alert-1'");
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }
}
