using System.Diagnostics;
using System.Text.Json.Nodes;
using Npgsql;
using Writeback.Cli.Local;
using Writeback.Cli.Tests.Faults;
using Writeback.StepFunctions;
using Writeback.Testing;

namespace Writeback.Cli.Tests.Lambda;

/// <summary>
/// A fault the way AWS has it: the Lambda process running a shard's COPY is SIGKILLed. The state machine's Retry sees
/// Lambda.Unknown, re-invokes in a fresh process, and the batch ends exactly as the crash suite's fault-free run.
/// </summary>
public sealed class KilledWriterTests(CrashSuite suite) : IClassFixture<CrashSuite>
{
    // Skipped, not deleted: in a full run and a run on its own on a loaded 2-core machine the killed writer's PostgreSQL backend
    // outlived it (its socket still open) and the test gave up waiting; the cause is not found yet (issue 11, part 7).
    // The same fault through `writeback sfn run` processes is held by the real-crash suite (KillStepProcess, MidCopy).
    [PrivatePostgresFact(Skip = "Flaky: the killed writer's backend sometimes outlives it; cause under investigation (issue 11, part 7).")]
    public async Task A_writer_process_killed_mid_copy_is_retried_by_the_state_machine_and_the_batch_lands_once()
    {
        var database = await suite.CreateDatabaseAsync("killwriter");
        try
        {
            await Workflow.RunToEndAsync(suite, database, suite.BatchA);
            await Traps.InstallAsync(database);
            await Traps.ArmAsync(database, CrashPoint.MidCopy, 1);
            await using var lambda = await LocalLambda.StartAsync(LambdaMode.JitProcesses, database, suite.Exports);
            var execution = ProcessWorkflowTests.Start(lambda, suite.BatchB);

            // The trap holds shard 1's COPY at row 100; the writer process whose invocation is shard 1 is then killed.
            var backend = await Traps.WaitForTrappedBackendAsync(database, () => execution.Completion.IsCompleted)
                ?? throw new InvalidOperationException($"the execution ended {execution.StatusName} before shard 1's COPY reached the trap");
            Assert.StartsWith("COPY", await QueryOfAsync(database, backend), StringComparison.Ordinal);
            var writer = lambda.Service!.Running.Single(r => r.FunctionName == "writeback-load-shard" && (int?)JsonNode.Parse(r.Payload)?["shardIndex"] == 1);
            using (var process = Process.GetProcessById(writer.ProcessId))
            {
                process.Kill();
            }

            await Traps.WaitUntilGoneAsync(database, backend).WaitAsync(TimeSpan.FromMinutes(2)).ContinueWith(t => t.IsFaulted
                ? throw new InvalidOperationException($"backend {backend} outlived writer {writer.ProcessId}: {Sockets()}", t.Exception)
                : t, TaskScheduler.Default).Unwrap();
            await Traps.DisarmOneAsync(database, CrashPoint.MidCopy);
            await execution.Completion.WaitAsync(TimeSpan.FromMinutes(5));

            Assert.True(execution.Status == ExecutionStatus.Succeeded, $"{execution.StatusName}: {execution.Error}: {execution.Cause}");
            Assert.Equal(suite.ExpectedRows, await CrashSuite.RowHashesAsync(database));
            var failed = execution.History.Where(e => e.Type.EndsWith("Failed", StringComparison.Ordinal) && (string?)e.Details?["error"] == "Lambda.Unknown").ToList();
            var attempt = Assert.Single(failed);
            Assert.Contains("Runtime.ExitError", (string?)attempt.Details!["cause"], StringComparison.Ordinal);
            Assert.Contains("signal: killed", (string?)attempt.Details!["cause"], StringComparison.Ordinal);
            var scheduled = execution.History.Count(e => e.Type.EndsWith("Scheduled", StringComparison.Ordinal) && e.Details?.ToJsonString().Contains("load-shard", StringComparison.Ordinal) == true);
            Assert.Equal(suite.BatchB.Manifest.Shards.Count + 1, scheduled);
            Assert.True(execution.History.Any(e => e.Id > attempt.Id && e.Type.EndsWith("Succeeded", StringComparison.Ordinal)), "no attempt succeeded after the killed one");
            Assert.Equal(1L, await ScalarAsync(database, $"SELECT count(*) FROM writeback.batches WHERE batch_id = '{suite.BatchB.Manifest.BatchId}' AND status = 'applied'"));
            Assert.Equal(0L, await ScalarAsync(database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'writeback_staging' AND tablename <> 'intact'"));
        }
        finally
        {
            await suite.DropDatabaseAsync(database);
        }
    }

    private static async Task<string> QueryOfAsync(string database, int pid)
    {
        await using var connection = new NpgsqlConnection(CrashSuite.Unpooled(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT query FROM pg_stat_activity WHERE pid = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = pid });
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<long> ScalarAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(CrashSuite.Unpooled(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static string Sockets()
    {
        using var ss = Process.Start(new ProcessStartInfo("ss", "-tnpa") { RedirectStandardOutput = true })!;
        var text = ss.StandardOutput.ReadToEnd();
        ss.WaitForExit();
        return text;
    }
}
