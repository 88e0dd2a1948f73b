using Npgsql;
using Writeback.History;
using Writeback.Testing;

namespace Writeback.Cli.Tests;

public sealed class StatusCommandTests
{
    [Fact]
    public async Task Status_shows_each_datasets_latest_alerts_newest_first_and_no_more_than_three()
    {
        var database = await TestPostgres.CreateDatabaseAsync("status_alerts");
        try
        {
            await using (var history = new RunHistory(database))
            {
                await history.EnsureSchemaAsync(CancellationToken.None);
            }

            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync();
                await using var insert = new NpgsqlCommand("""
                    INSERT INTO writeback_runs.alerts (dataset, kind, state, message, raised_at)
                    SELECT 'student_dashboard', 'slo', 'late', 'alert number ' || n, timestamptz '2026-12-01 07:00Z' + n * interval '1 minute'
                    FROM generate_series(1, 4) AS n;
                    INSERT INTO writeback_runs.alerts (dataset, kind, state, message, raised_at)
                    VALUES ('class_summary', 'failed', 'failed', 'batch class_summary-20261130 failed in Verify', timestamptz '2026-12-01 06:00Z');
                    """, connection);
                await insert.ExecuteNonQueryAsync();
            }

            var run = await CliDatabaseTests.RunAsync(database, "status");

            Assert.True(run.ExitCode == 0, run.Stderr);
            var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(
                ["alert 2026-12-01 07:04:00Z  slo: alert number 4", "alert 2026-12-01 07:03:00Z  slo: alert number 3", "alert 2026-12-01 07:02:00Z  slo: alert number 2"],
                lines.SkipWhile(l => !l.StartsWith("student_dashboard", StringComparison.Ordinal)).Skip(1).TakeWhile(l => l.StartsWith("alert", StringComparison.Ordinal)));
            Assert.Contains("alert 2026-12-01 06:00:00Z  failed: batch class_summary-20261130 failed in Verify", lines);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }
}
