using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Npgsql;
using Writeback.Testing;
using Xunit.Abstractions;

namespace Writeback.Cli.Tests.Faults;

/// <summary>
/// The fault AWS never has and a local host does: `writeback serve` SIGKILLed while an execution is RUNNING. Started
/// again on the same database, it carries the execution on from its last completed state; the AWS CLI sees one
/// complete, ordered history and a SUCCEEDED execution, and the batch lands exactly once.
/// </summary>
public sealed partial class KilledServeTests(CrashSuite suite, ITestOutputHelper output) : IClassFixture<CrashSuite>
{
    /// <summary>Inside Verify (after the Map), or inside the Map with shard 1 held at its commit while other shards finish.</summary>
    [PrivatePostgresTheory]
    [InlineData(CrashPoint.InsideVerify)]
    [InlineData(CrashPoint.ShardCommit)]
    public async Task Serve_killed_mid_execution_and_started_again_finishes_it_and_the_batch_lands_once(CrashPoint point)
    {
        var database = await suite.CreateDatabaseAsync("killserve");
        try
        {
            await Workflow.RunToEndAsync(suite, database, suite.BatchA);
            await Traps.InstallAsync(database);
            await Traps.ArmAsync(database, point, 1);
            var batch = suite.BatchB;
            var name = batch.Manifest.BatchId;

            List<int> orphans;
            IReadOnlyList<JsonNode> before;
            var mapProgressBeforeKill = false;
            var clock = Stopwatch.StartNew();
            using (var first = await Serve.StartAsync(suite, database, output))
            {
                var started = await Cli(first, "start-execution", "--state-machine-arn", first.StateMachineArn, "--name", name, "--input", Workflow.Input(batch));
                var arn = (string)started["executionArn"]!;
                await Traps.WaitForTrappedBackendAsync(database, () => first.HasExited);
                if (point == CrashPoint.ShardCommit)
                {
                    // Killed mid-Map preferably once another shard's success is in the checkpoint, so the restart has
                    // iterations to skip. In one loaded full run none was within two minutes; the kill then comes anyway
                    // and the restart must still finish the Map, which is the claim under test.
                    mapProgressBeforeKill = await EventuallyAsync(async () => await ScalarAsync(database,
                        $"SELECT coalesce(json_array_length(checkpoint->'succeeded'), 0) FROM writeback_sfn.executions WHERE name = '{name}'") >= 1,
                        TimeSpan.FromSeconds(90));
                }

                before = Events(await Cli(first, "get-execution-history", "--execution-arn", arn));
                // Everything the CLI was shown is durable before the kill, so the history after it must begin with all of it.
                await UntilAsync(async () => await ScalarAsync(database, $"SELECT count(*) FROM writeback_sfn.events WHERE execution_arn = '{arn}'") >= before.Count);
                orphans = first.Children();
                first.Kill();
            }

            output.WriteLine($"killed serve at {point} after {clock.ElapsedMilliseconds} ms, {before.Count} events, with {orphans.Count} function processes");
            await Traps.DisarmOneAsync(database, point);

            clock.Restart();
            using var second = await Serve.StartAsync(suite, database, output);
            Assert.Contains(second.Lines, line => line.Contains("resumed 1 running execution(s)", StringComparison.Ordinal) && line.Contains(name, StringComparison.Ordinal));
            var executionArn = second.StateMachineArn.Replace(":stateMachine:", ":execution:", StringComparison.Ordinal) + ":" + name;
            JsonNode described = null!;
            await UntilAsync(async () => (string?)(described = await Cli(second, "describe-execution", "--execution-arn", executionArn))["status"] != "RUNNING", TimeSpan.FromMinutes(5));
            output.WriteLine($"resumed and finished in {clock.ElapsedMilliseconds} ms");
            Assert.Equal("SUCCEEDED", (string?)described["status"]);
            Assert.Equal(0, (int)described["redriveCount"]!);

            var history = Events(await Cli(second, "get-execution-history", "--execution-arn", executionArn));
            Assert.Equal(before.Select(Shape), history.Take(before.Count).Select(Shape));
            Assert.Equal(Enumerable.Range(1, history.Count).Select(i => (long)i), history.Select(e => (long)e["id"]!));
            Assert.All(history, e => Assert.InRange((long)e["previousEventId"]!, 0, (long)e["id"]! - 1));
            Assert.Equal(1, history.Count(e => (string?)e["type"] == "ExecutionStarted"));
            Assert.Equal("ExecutionSucceeded", (string?)history[^1]["type"]);
            Assert.DoesNotContain(history, e => (string?)e["type"] == "ExecutionRedriven");
            if (point == CrashPoint.ShardCommit)
            {
                var rerun = history.Skip(before.Count).Count(e => (string?)e["type"] == "MapIterationStarted");
                output.WriteLine($"the resumed Map ran {rerun} of {batch.Manifest.Shards.Count} shards (a success checkpointed before the kill: {mapProgressBeforeKill})");
                Assert.InRange(rerun, 1, batch.Manifest.Shards.Count - (mapProgressBeforeKill ? 1 : 0));
            }

            Assert.Equal(suite.ExpectedRows, await CrashSuite.RowHashesAsync(database));
            Assert.Equal(1L, await ScalarAsync(database, $"SELECT count(*) FROM writeback.batches WHERE batch_id = '{name}' AND status = 'applied'"));
            Assert.Equal(0L, await ScalarAsync(database, "SELECT count(*) FROM writeback.batches WHERE status NOT IN ('applied', 'skipped', 'failed')"));
            Assert.Equal(0L, await ScalarAsync(database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'writeback_staging' AND tablename <> 'intact'"));

            // The killed host's function processes lose their Runtime API and exit; none is left behind.
            await UntilAsync(() => Task.FromResult(orphans.All(pid => !File.Exists($"/proc/{pid}/stat") || File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal))), TimeSpan.FromMinutes(1));
        }
        finally
        {
            await suite.DropDatabaseAsync(database);
        }
    }

    private static (long, long, string) Shape(JsonNode e) => ((long)e["id"]!, (long)e["previousEventId"]!, (string)e["type"]!);

    private static IReadOnlyList<JsonNode> Events(JsonNode history) => [.. history["events"]!.AsArray().Select(e => e!)];

    private static async Task<JsonNode> Cli(Serve serve, params string[] args)
    {
        var result = await AwsCli.StepFunctionsAsync(serve.StepFunctionsUrl, args);
        Assert.True(result.ExitCode == 0, $"aws stepfunctions {args[0]}: {result.Stderr}");
        return result.Json;
    }

    /// <summary>Whether the condition came to hold within the time; unlike <see cref="UntilAsync"/>, not holding is an answer.</summary>
    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromMinutes(2));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(50);
        }
    }

    private static async Task<long> ScalarAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(CrashSuite.Unpooled(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync() ?? 0L, CultureInfo.InvariantCulture);
    }

    /// <summary>`writeback serve` as a real process on the suite's project root and the test's database.</summary>
    private sealed partial class Serve : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _lines = [];

        private Serve(Process process) => _process = process;

        public Uri StepFunctionsUrl { get; private set; } = null!;

        public string StateMachineArn { get; private set; } = "";

        public bool HasExited => _process.HasExited;

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public static async Task<Serve> StartAsync(CrashSuite suite, string database, ITestOutputHelper output)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "writeback.dll"));
            start.ArgumentList.Add("serve");
            start.Environment["WRITEBACK_PG"] = database;
            start.Environment["WRITEBACK_ROOT"] = suite.Root;
            // These faults are the Step Functions journal's: no events are published, so no emulator's JVM is started.
            start.Environment["WRITEBACK_PUBSUB"] = "builtin";
            var serve = new Serve(Process.Start(start)!);
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            serve._process.OutputDataReceived += (_, _) => { };
            serve._process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not { } line)
                {
                    return;
                }

                output.WriteLine($"[serve {serve._process.Id}] {line}");
                lock (serve._lines)
                {
                    serve._lines.Add(line);
                }

                if (Endpoint().Match(line) is { Success: true } match)
                {
                    serve.StepFunctionsUrl = new Uri(match.Groups[1].Value);
                    serve.StateMachineArn = match.Groups[2].Value;
                }

                if (line.Contains("Ctrl-C stops", StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
            };
            serve._process.BeginOutputReadLine();
            serve._process.BeginErrorReadLine();
            await Task.WhenAny(ready.Task, serve._process.WaitForExitAsync()).WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(ready.Task.IsCompleted, $"serve exited before it was ready: {string.Join('\n', serve.Lines)}");
            return serve;
        }

        /// <summary>The function processes this host started (children of its process).</summary>
        public List<int> Children() =>
            [.. Directory.GetDirectories("/proc").Select(d => Path.GetFileName(d)).Where(n => n.All(char.IsAsciiDigit)).Select(int.Parse)
                .Where(pid => ParentOf(pid) == _process.Id)];

        /// <summary>SIGKILL: no shutdown, no flush, nothing but what is already durable.</summary>
        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                // Ctrl-C: serve's normal way to stop, which also stops its function processes.
                using (var interrupt = Process.Start("kill", ["-INT", _process.Id.ToString(CultureInfo.InvariantCulture)]))
                {
                    interrupt.WaitForExit();
                }

                if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
                {
                    _process.Kill(entireProcessTree: true);
                }
            }

            _process.Dispose();
        }

        private static int? ParentOf(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                // pid (comm) state ppid …; comm may hold spaces, so read after its closing parenthesis.
                return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                return null;
            }
        }

        [GeneratedRegex(@"Step Functions endpoint (\S+) \(state machine (\S+)\)")]
        private static partial Regex Endpoint();
    }
}
