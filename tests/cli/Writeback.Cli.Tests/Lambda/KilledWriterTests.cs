using System.Diagnostics;
using System.Text.Json.Nodes;
using Npgsql;
using Writeback.Cli.Local;
using Writeback.Cli.Tests.Faults;
using Writeback.StepFunctions;
using Writeback.StepFunctions.Local;
using Writeback.Testing;

namespace Writeback.Cli.Tests.Lambda;

/// <summary>
/// A fault the way AWS has it: the Lambda process running a shard's COPY is SIGKILLed. The state machine's Retry sees
/// Lambda.Unknown, re-invokes in a fresh process, and the batch ends exactly as the crash suite's fault-free run. The
/// execution is started and its history read with the AWS CLI, against the local Step Functions endpoint.
/// </summary>
public sealed class KilledWriterTests(CrashSuite suite) : IClassFixture<CrashSuite>
{
    [PrivatePostgresFact]
    public async Task A_writer_process_killed_mid_copy_is_retried_by_the_state_machine_and_the_batch_lands_once()
    {
        var database = await suite.CreateDatabaseAsync("killwriter");
        try
        {
            await Workflow.RunToEndAsync(suite, database, suite.BatchA);
            await Traps.InstallAsync(database);
            await Traps.ArmAsync(database, CrashPoint.MidCopy, 1);
            await using var lambda = await LocalLambda.StartAsync(LambdaMode.JitProcesses, database, suite.Exports);
            var engine = new StepFunctionsEngine(new StepFunctionsEngineOptions { LambdaInvoker = lambda.Invoker });
            var service = new LocalStepFunctionsService(engine);
            var machine = service.CreateStateMachine("writeback", ProcessWorkflowTests.Definition.Value);
            await using var endpoint = await StepFunctionsEndpoint.StartAsync(service, 0, CancellationToken.None);
            var started = await AwsCli.StepFunctionsAsync(endpoint.Url, "start-execution", "--state-machine-arn", machine.Arn,
                "--name", suite.BatchB.Manifest.BatchId, "--input", Workflow.Input(suite.BatchB));
            Assert.True(started.ExitCode == 0, started.Stderr);
            var execution = engine.DescribeExecution((string)started.Json["executionArn"]!);

            // The trap holds shard 1's COPY at row 100; the writer process whose invocation is shard 1 is then killed.
            var backend = await Traps.WaitForTrappedBackendAsync(database, () => execution.Completion.IsCompleted)
                ?? throw new InvalidOperationException($"the execution ended {execution.StatusName} before shard 1's COPY reached the trap");
            Assert.StartsWith("COPY", await QueryOfAsync(database, backend), StringComparison.Ordinal);
            var writer = lambda.Service!.Running.Single(r => r.FunctionName == "writeback-load-shard" && (int?)JsonNode.Parse(r.Payload)?["shardIndex"] == 1);
            using (var process = Process.GetProcessById(writer.ProcessId))
            {
                process.Kill();
                process.WaitForExit();
            }

            // The backend goes on as a real one would (see Traps.ReleaseAsync): it reads what the writer had sent, then the end.
            await Traps.ReleaseAsync(database, backend);
            await Traps.WaitUntilGoneAsync(database, backend).WaitAsync(TimeSpan.FromMinutes(2)).ContinueWith(t => t.IsFaulted
                ? throw new InvalidOperationException($"backend {backend} outlived writer {writer.ProcessId}: {Sockets()}", t.Exception)
                : t, TaskScheduler.Default).Unwrap();
            await Traps.DisarmOneAsync(database, CrashPoint.MidCopy);
            await execution.Completion.WaitAsync(TimeSpan.FromMinutes(5));

            Assert.True(execution.Status == ExecutionStatus.Succeeded, $"{execution.StatusName}: {execution.Error}: {execution.Cause}");
            Assert.Equal(suite.ExpectedRows, await CrashSuite.RowHashesAsync(database));
            Assert.Equal(1L, await ScalarAsync(database, $"SELECT count(*) FROM writeback.batches WHERE batch_id = '{suite.BatchB.Manifest.BatchId}' AND status = 'applied'"));
            Assert.Equal(0L, await ScalarAsync(database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'writeback_staging' AND tablename <> 'intact'"));

            // What an operator sees through the AWS CLI: the killed attempt as Lambda.Unknown, the retry, and its success.
            var history = await AwsCli.StepFunctionsAsync(endpoint.Url, "get-execution-history", "--execution-arn", execution.Arn);
            Assert.True(history.ExitCode == 0, history.Stderr);
            var events = history.Json["events"]!.AsArray().Select(e => e!.AsObject()).ToList();
            // The killed attempt is the first failure. Under load the retry can fail too (it may meet the dying backend's
            // lock on shard 1's staging table before that backend is gone); each such failure must have been retried.
            var failures = events.Where(e => (string?)e["type"] == "TaskFailed").ToList();
            Assert.NotEmpty(failures);
            var attempt = failures[0];
            var failure = attempt["taskFailedEventDetails"]!;
            Assert.Equal("Lambda.Unknown", (string?)failure["error"]);
            Assert.Contains("Runtime.ExitError", (string?)failure["cause"], StringComparison.Ordinal);
            Assert.Contains("signal: killed", (string?)failure["cause"], StringComparison.Ordinal);
            var loads = events.Count(e => (string?)e["type"] == "TaskScheduled"
                && e["taskScheduledEventDetails"]!.ToJsonString().Contains("load-shard", StringComparison.Ordinal));
            Assert.True(suite.BatchB.Manifest.Shards.Count + failures.Count == loads,
                $"{loads} load-shard tasks scheduled for {suite.BatchB.Manifest.Shards.Count} shards and {failures.Count} failures: "
                + string.Join("; ", failures.Select(f => f["taskFailedEventDetails"]!.ToJsonString())));
            Assert.Contains(events, e => (long)e["id"]! > (long)attempt["id"]! && (string?)e["type"] == "TaskSucceeded");
            Assert.Equal("ExecutionSucceeded", (string?)events[^1]["type"]);
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
