using System.Globalization;
using System.Text.Json.Nodes;
using Npgsql;
using Writeback.StepFunctions;
using Writeback.Testing;
using Xunit;

namespace Writeback.Cli.Tests.Faults;

/// <summary>
/// Real crashes at every point of a batch — SIGKILL of the working backend, <c>pg_ctl -m immediate</c>, SIGKILL of the
/// process running the steps — while a corrected export (B) replaces a day already applied (A). After the faults the
/// same batch is retried or redelivered, and the product table must equal a fault-free run's, row for row, with no
/// staging or unfinished ledger row left, and a reader running throughout must never have seen anything but A or B.
/// </summary>
public sealed class RealCrashTests(CrashSuite suite) : IClassFixture<CrashSuite>
{
    private static readonly CrashPoint[] InsideSteps =
        [CrashPoint.MidCopy, CrashPoint.ShardCommit, CrashPoint.InsideVerify, CrashPoint.InsidePublishWrite, CrashPoint.PublishCommit];

    private static readonly CrashPoint[] BetweenSteps =
        [CrashPoint.AfterShardCommitted, CrashPoint.BetweenLoadAndVerify, CrashPoint.BetweenVerifyAndPublish];

    public static TheoryData<CrashKind, CrashPoint, int> Scenarios
    {
        get
        {
            var data = new TheoryData<CrashKind, CrashPoint, int>();
            foreach (var point in InsideSteps)
            {
                // Three crashes in a row at the same point: the first, the one during its retry, the one during the reload.
                data.Add(CrashKind.KillBackend, point, 3);
                data.Add(CrashKind.ImmediateShutdown, point, 3);
                data.Add(CrashKind.KillStepProcess, point, 2);
            }

            foreach (var point in BetweenSteps)
            {
                data.Add(CrashKind.KillBackend, point, 2);
                data.Add(CrashKind.ImmediateShutdown, point, 2);
            }

            return data;
        }
    }

    [PrivatePostgresTheory]
    [MemberData(nameof(Scenarios))]
    public async Task A_batch_crashed_at_any_point_ends_exactly_as_a_fault_free_run(CrashKind kind, CrashPoint point, int faults)
    {
        var database = await suite.CreateDatabaseAsync("crash");
        try
        {
            await Workflow.RunToEndAsync(suite, database, suite.BatchA);
            Assert.Equal(suite.DigestA, await CrashSuite.DayDigestAsync(database));
            await Traps.InstallAsync(database);

            int injected;
            int deliveries;
            await using (var reader = new ConcurrentReader(database, suite.DigestA, suite.DigestB))
            {
                (injected, deliveries) = InsideSteps.Contains(point)
                    ? await CrashInsideAStepAsync(database, kind, point, faults)
                    : await CrashBetweenStepsAsync(database, kind, point, faults);

                await WaitForSamplesAsync(reader);
                Assert.Equal(0, reader.Mixed);
                await Record(kind, point, injected, deliveries, database, reader);
            }

            Assert.Equal(faults, injected);
            Assert.Equal(suite.DigestB, await CrashSuite.DayDigestAsync(database));
            var (lost, duplicated) = Compare(suite.ExpectedRows, await CrashSuite.RowHashesAsync(database));
            Assert.Equal((0, 0), (lost, duplicated));
            Assert.Equal(0L, await ScalarAsync(database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'writeback_staging' AND tablename <> 'intact'"));
            Assert.Equal(0L, await ScalarAsync(database, "SELECT count(*) FROM writeback.batches WHERE status NOT IN ('applied', 'skipped', 'failed')"));
            Assert.Equal(1L, await ScalarAsync(database, $"SELECT count(*) FROM writeback.batches WHERE batch_id = '{suite.BatchB.Manifest.BatchId}' AND status = 'applied'"));
        }
        finally
        {
            await suite.DropDatabaseAsync(database);
        }
    }

    /// <summary>
    /// The trap holds a backend at the point; the test crashes it there, lets the server recover, and only then lets
    /// the next attempt pass (or crashes that one too). The server-side kinds crash under a running execution, whose
    /// Retry and reload must carry it to the end by themselves; a killed process is redelivered.
    /// </summary>
    private async Task<(int Injected, int Deliveries)> CrashInsideAStepAsync(string database, CrashKind kind, CrashPoint point, int faults)
    {
        await Traps.ArmAsync(database, point, faults);
        var injected = 0;
        var deliveries = 0;
        if (kind == CrashKind.KillStepProcess)
        {
            for (var i = 0; i < faults; i++)
            {
                using var process = Workflow.StartProcess(suite, database, suite.BatchB);
                deliveries++;
                var pid = await Traps.WaitForTrappedBackendAsync(database, () => process.HasExited)
                    ?? throw new InvalidOperationException($"the run ended (exit {process.ExitCode}) without reaching {point}");
                process.Kill();
                await process.WaitForExitAsync();
                await Traps.ReleaseAsync(database, pid);
                await Traps.WaitUntilGoneAsync(database, pid);
                injected++;
                await Traps.DisarmOneAsync(database, point);
            }

            await DeliverUntilSucceededAsync(database, () => deliveries++);
            return (injected, deliveries);
        }

        var execution = Workflow.Start(suite, database, suite.BatchB);
        deliveries++;
        for (var i = 0; i < faults; i++)
        {
            var pid = await Traps.WaitForTrappedBackendAsync(database, () => execution.Status != ExecutionStatus.Running)
                ?? throw new InvalidOperationException($"the execution ended {execution.StatusName} ({execution.Error}: {execution.Cause}) without reaching {point} again; history: {Json.ToIndentedString(HistoryEvent.ToJson(execution.History))}");
            await CrashAsync(kind, pid);
            injected++;
            await Traps.DisarmOneAsync(database, point);
        }

        await execution.Completion.WaitAsync(TimeSpan.FromMinutes(5));
        if (execution.Status != ExecutionStatus.Succeeded)
        {
            // Retries ran out while the server was down: what Pub/Sub or an operator does next is deliver it again.
            await DeliverUntilSucceededAsync(database, () => deliveries++);
        }

        return (injected, deliveries);
    }

    /// <summary>
    /// Runs the steps by hand up to the point (as an operator running parts of the state machine would), crashes the
    /// server, shows that Publish on its own now writes nothing and asks for a reload, crashes it again, and then
    /// delivers the batch once more.
    /// </summary>
    private async Task<(int Injected, int Deliveries)> CrashBetweenStepsAsync(string database, CrashKind kind, CrashPoint point, int faults)
    {
        var invoker = Workflow.Invoker(suite, database);
        var batch = suite.BatchB;
        var reference = new JsonObject { ["batchId"] = batch.Manifest.BatchId, ["manifestUri"] = batch.ManifestUri };
        await StepAsync(invoker, "writeback-prepare", new JsonObject { ["manifestUri"] = batch.ManifestUri });
        var shardsToLoad = point == CrashPoint.AfterShardCommitted ? 1 : batch.Manifest.Shards.Count;
        for (var shard = 0; shard < shardsToLoad; shard++)
        {
            var load = (JsonObject)reference.DeepClone();
            load["shardIndex"] = shard;
            await StepAsync(invoker, "writeback-load-shard", load);
        }

        if (point == CrashPoint.BetweenVerifyAndPublish)
        {
            await StepAsync(invoker, "writeback-verify", reference);
        }

        var injected = 0;
        await CrashAsync(kind, await IdleBackendAsync(database));
        injected++;

        var publish = await StepAsync(invoker, "writeback-publish", reference, expectFailure: true);
        Assert.Equal("Writeback.Reload", publish.ErrorType);
        Assert.Equal(suite.DigestA, await CrashSuite.DayDigestAsync(database));

        for (; injected < faults; injected++)
        {
            await CrashAsync(kind, await IdleBackendAsync(database));
        }

        var deliveries = 0;
        await DeliverUntilSucceededAsync(database, () => deliveries++);
        return (injected, deliveries);
    }

    private async Task DeliverUntilSucceededAsync(string database, Action counted)
    {
        for (var attempt = 1; ; attempt++)
        {
            var execution = Workflow.Start(suite, database, suite.BatchB);
            counted();
            await execution.Completion.WaitAsync(TimeSpan.FromMinutes(5));
            if (execution.Status == ExecutionStatus.Succeeded)
            {
                Assert.Equal("load", JsonNode.Parse(execution.OutputJson!)!["action"]!.GetValue<string>());
                return;
            }

            Assert.True(attempt < 3, $"delivery {attempt} after the faults ended {execution.StatusName}: {execution.Error}: {execution.Cause}");
        }
    }

    private async Task CrashAsync(CrashKind kind, int backend)
    {
        if (kind == CrashKind.ImmediateShutdown)
        {
            await suite.Server.CrashAndRestartAsync();
        }
        else
        {
            await suite.Server.KillBackendAsync(backend);
        }

        await suite.Server.WaitUntilAcceptingAsync();
    }

    /// <summary>A backend of this database that is doing nothing: between steps, killing any backend crashes the server.</summary>
    private static async Task<int> IdleBackendAsync(string database)
    {
        var connection = new NpgsqlConnection(CrashSuite.Unpooled(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        var pid = (int)(await command.ExecuteScalarAsync())!;

        // Left open on purpose: it is the one that gets killed. Disposed once the server has dropped it.
        _ = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30));
            await connection.DisposeAsync();
        });
        return pid;
    }

    /// <summary>One step through the local Lambda boundary, retried while the server is recovering, as the Retry would.</summary>
    private static async Task<LambdaInvocationResult> StepAsync(SfnLocalInvoker invoker, string function, JsonObject payload, bool expectFailure = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            var result = await invoker.InvokeAsync(function, payload.ToJsonString(), CancellationToken.None);
            if (result.ErrorType == "Writeback.Transient" && attempt < 20)
            {
                await Task.Delay(250);
                continue;
            }

            Assert.True(expectFailure == (result.ErrorType is not null), $"{function}: {result.ErrorType}: {result.ErrorMessage}");
            return result;
        }
    }

    private static async Task WaitForSamplesAsync(ConcurrentReader reader)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (reader.Samples < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(reader.Samples >= 2, "the concurrent reader took no samples");
    }

    private static (int Lost, int Duplicated) Compare(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in expected)
        {
            counts[row] = counts.GetValueOrDefault(row) + 1;
        }

        foreach (var row in actual)
        {
            counts[row] = counts.GetValueOrDefault(row) - 1;
        }

        return (counts.Values.Where(v => v > 0).Sum(), -counts.Values.Where(v => v < 0).Sum());
    }

    private async Task Record(CrashKind kind, CrashPoint point, int injected, int deliveries, string database, ConcurrentReader reader)
    {
        var (lost, duplicated) = Compare(suite.ExpectedRows, await CrashSuite.RowHashesAsync(database));
        var held = lost == 0 && duplicated == 0 && reader.Mixed == 0 && await CrashSuite.DayDigestAsync(database) == suite.DigestB;
        CrashSuiteReport.Append(string.Create(
            CultureInfo.InvariantCulture,
            $"kind={kind} point={point} faults={injected} deliveries={deliveries} held={(held ? 1 : 0)} lost={lost} duplicated={duplicated} mixed={reader.Mixed} samples={reader.Samples}"));
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(CrashSuite.Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// One line per scenario in WRITEBACK_TEST_RESULTS/real-crash-suite.txt, which `./writeback test` sums up after the
/// run so CI output shows faults injected, scenarios held, rows lost and rows duplicated.
/// </summary>
internal static class CrashSuiteReport
{
    private static readonly Lock Gate = new();

    public static void Append(string line)
    {
        var folder = Environment.GetEnvironmentVariable("WRITEBACK_TEST_RESULTS");
        if (string.IsNullOrWhiteSpace(folder))
        {
            return;
        }

        lock (Gate)
        {
            File.AppendAllText(Path.Combine(folder, "real-crash-suite.txt"), line + Environment.NewLine);
        }
    }
}
