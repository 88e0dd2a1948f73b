using System.CommandLine;
using System.Globalization;
using Npgsql;
using Writeback.Aggregate.Warehouse;
using Writeback.Cli.Local;
using Writeback.Steps.Contract;

namespace Writeback.Cli;

internal static class DemoCommand
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Sample warehouse size: small, medium (≥ 1M result rows) or large.", DefaultValueFactory = _ => "small" };
        var date = new Option<string?>("--date") { Description = "Business date (yyyy-MM-dd); default: yesterday in the time zone of the datasets' deadline (targets/), the day the SLO check expects." };
        var seed = new Option<long>("--seed") { Description = "Seed of the generated sample warehouse.", DefaultValueFactory = _ => SampleWarehouse.DefaultSeed };
        var artifacts = new Option<string?>("--artifacts") { Description = "Run the Native AOT bootstrap from this folder (./writeback build-artifacts linux-x64 writes artifacts/linux-x64) instead of the JIT build." };
        var inProcess = new Option<bool>("--in-process") { Description = "Call the handlers in this process instead of through the local Lambda service (to compare the cost of process invocation)." };
        var command = new Command("demo", "Run batches through the whole path on this machine: warehouse → Parquet shards → event → verified trigger → state machine → PostgreSQL.")
        {
            size, date, seed, artifacts, inProcess,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!WarehouseSizes.TryParse(parse.GetValue(size), out var warehouseSize))
            {
                return Fail($"--size must be small, medium or large, not '{parse.GetValue(size)}'.");
            }

            // The demo loads both datasets for one day; their deadlines share a zone (both Asia/Tokyo): the first one's is used.
            if (!CliDates.TryParseBusinessDate(parse.GetValue(date), DemoOptions.DefaultDatasets[0], DateTimeOffset.UtcNow, out var businessDate, out var dateError))
            {
                return Fail(dateError);
            }

            if (await CliDatabase.RequireAsync("demo", cancellationToken) is not { } connectionString)
            {
                return 2;
            }

            var mode = parse.GetValue(inProcess) ? LambdaMode.InProcess : parse.GetValue(artifacts) is null ? LambdaMode.JitProcesses : LambdaMode.ArtifactProcesses;
            Console.Error.WriteLine($"writeback demo: {warehouseSize.Name()} sample warehouse, business date {businessDate:yyyy-MM-dd}");
            Console.Error.WriteLine(mode switch
            {
                LambdaMode.InProcess => "writeback demo: functions are called in this process (--in-process), not through the Lambda Invoke API",
                LambdaMode.ArtifactProcesses => $"writeback demo: functions run as processes of the Native AOT bootstrap in {parse.GetValue(artifacts)}, invoked over the local Lambda Invoke API",
                _ => "writeback demo: functions run as processes (the writers' JIT build, speaking the Lambda Runtime API), invoked over the local Lambda Invoke API",
            });
            PubSubMode pubsub;
            try
            {
                pubsub = LocalPubSubOptions.ModeFrom(Environment.GetEnvironmentVariable);
            }
            catch (PubSubEmulatorException e)
            {
                return Fail(e.Message + ".");
            }

            using var functionLog = FunctionLog.Open(Path.Combine(ProjectPaths.State, "functions.log"));
            var progress = new ProgressLine(Console.Error, interactive: !Console.IsErrorRedirected);
            DemoOutcome outcome;
            var wall = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                outcome = await DemoRunner.RunAsync(
                    new DemoOptions
                    {
                        ConnectionString = connectionString, Size = warehouseSize, BusinessDate = businessDate, Seed = parse.GetValue(seed), StateFolder = ProjectPaths.State,
                        Lambda = mode, Artifacts = parse.GetValue(artifacts), FunctionLog = functionLog.Write,
                        Log = line =>
                        {
                            progress.Done();
                            Console.Error.WriteLine($"writeback demo: {line}");
                        },
                        PubSub = new LocalPubSubOptions { Mode = pubsub },
                    },
                    progress,
                    cancellationToken);
            }
            catch (PubSubEmulatorException e)
            {
                progress.Done();
                return Fail(e.Message + ".");
            }
            finally
            {
                progress.Done();
            }

            await PrintSummaryAsync(outcome, connectionString, businessDate, wall.Elapsed, cancellationToken);
            return outcome.Datasets.All(d => d.Succeeded) ? 0 : 1;
        });
        return command;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"writeback demo: {message}");
        return 2;
    }

    private static async Task PrintSummaryAsync(DemoOutcome outcome, string connectionString, DateOnly businessDate, TimeSpan wall, CancellationToken cancellationToken)
    {
        var w = outcome.Warehouse;
        var o = Console.Out;
        o.WriteLine();
        o.WriteLine($"Functions  {outcome.Lambda}");
        o.WriteLine($"Events     {outcome.PubSub}");
        o.WriteLine($"Warehouse  {w.Students:N0} students, {w.Classes:N0} classes, {w.Schools:N0} schools ({Relative(w.Path)}), ready in {Seconds(outcome.WarehouseDuration)}");
        foreach (var d in outcome.Datasets)
        {
            var a = d.Aggregate;
            o.WriteLine();
            o.WriteLine($"{d.Dataset}  batch {a.BatchId}");
            o.WriteLine($"  exported   {a.Rows:N0} rows in {a.Shards} Parquet shard(s), {a.Bytes / 1024.0 / 1024.0:N1} MiB  (query {Seconds(a.Timings.Query)}, write {Seconds(a.Timings.Write)}, publish {Seconds(a.Timings.Publish)})");
            if (!d.Succeeded)
            {
                o.WriteLine($"  FAILED     {d.Status}: {d.Error}: {d.Cause}");
            }
            else if (d.Action == StepAction.Load)
            {
                o.WriteLine($"  applied    {d.Published?.Inserted ?? 0:N0} inserted, {d.Published?.Updated ?? 0:N0} updated, {d.Published?.Deleted ?? 0:N0} deleted, {d.Published?.Unchanged ?? 0:N0} unchanged");
            }
            else
            {
                var reason = d.Result?.Reason;
                o.WriteLine(d.Action == StepAction.Applied
                    ? "  nothing to apply: this batch was applied before, so the product table is unchanged"
                    : $"  skipped    {reason ?? "an older batch than the one applied"}");
            }

            o.WriteLine($"  steps      {string.Join(" · ", d.Steps.Select(s => $"{s.State} {Seconds(s.Duration)}"))}  (execution {Seconds(d.ExecutionDuration)})");
            if (d.Succeeded && CliDates.DeadlineOf(d.Dataset) is { } deadline)
            {
                o.WriteLine($"  deadline   {businessDate:yyyy-MM-dd} {CliDates.Verdict(deadline, businessDate, DateTimeOffset.UtcNow)}");
            }
            o.WriteLine($"  history    {Relative(d.HistoryPath ?? "")}");
        }

        o.WriteLine();
        o.WriteLine(WallTimeLine(wall, outcome.Datasets.SelectMany(d => d.Steps)));
        await PrintSampleAsync(connectionString, businessDate, cancellationToken);
        o.WriteLine();
        foreach (var slo in await SloCommand.CheckAsync(connectionString, cancellationToken))
        {
            o.WriteLine($"SLO  {slo.Evaluation.Dataset}: {Writeback.Slo.SloStates.Name(slo.Evaluation.State)} — {slo.Evaluation.Detail}");
        }

        o.WriteLine("     (./writeback status shows every batch's steps; ./writeback report --out report.html draws the timeline)");
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        o.WriteLine();
        o.WriteLine($"Look at the data:  PGPASSWORD='{builder.Password}' psql -h {builder.Host} -p {builder.Port} -U {builder.Username} -d {builder.Database}");
        if (Environment.GetEnvironmentVariable("WRITEBACK_ROOT") is { } root
            && await IsServerOfAsync(connectionString, Path.Combine(root, ".writeback", "postgres", "data"), cancellationToken))
        {
            o.WriteLine("Stop that server: ./writeback db stop");
        }
    }

    /// <summary>
    /// Whether the server runs on <paramref name="dataDirectory"/>: the demo offers <c>./writeback db stop</c> only for the
    /// server that command keeps under .writeback/postgres, not for one named by WRITEBACK_PG, which it would not stop.
    /// </summary>
    internal static async Task<bool> IsServerOfAsync(string connectionString, string dataDirectory, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT current_setting('data_directory')", connection);
            var serverDirectory = (string?)await command.ExecuteScalarAsync(cancellationToken);
            return serverDirectory is not null
                && string.Equals(Path.GetFullPath(serverDirectory).TrimEnd('/'), Path.GetFullPath(dataDirectory).TrimEnd('/'), StringComparison.Ordinal);
        }
        catch (PostgresException)
        {
            // Reading data_directory needs pg_read_all_settings; a role without it is not the project's own superuser.
            return false;
        }
    }

    private static async Task PrintSampleAsync(string connectionString, DateOnly businessDate, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT student_id, class_id, study_minutes, tests_taken, average_score
            FROM dashboard.student_daily
            WHERE business_date = $1
            ORDER BY study_minutes DESC, student_id
            LIMIT 5
            """;
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = businessDate });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            Console.Out.WriteLine();
            Console.Out.WriteLine($"Top students by study minutes on {businessDate:yyyy-MM-dd} (dashboard.student_daily):");
            Console.Out.WriteLine("  student_id  class_id  study_minutes  tests_taken  average_score");
            while (await reader.ReadAsync(cancellationToken))
            {
                var score = reader.IsDBNull(4) ? "—" : reader.GetDecimal(4).ToString("0.00", CultureInfo.InvariantCulture);
                Console.Out.WriteLine($"  {reader.GetInt64(0),10}  {reader.GetInt32(1),8}  {reader.GetInt32(2),13}  {reader.GetInt16(3),11}  {score,13}");
            }
        }
        catch (PostgresException e)
        {
            Console.Error.WriteLine($"writeback demo: could not read the sample ({e.MessageText}).");
        }
    }

    /// <summary>
    /// Where the wall time went: the Map is the bulk COPY a hand-written load would also pay; the rest (warehouse, export,
    /// events, Prepare, Verify, Publish, process start-ups) is what the safety and the demo's set-up cost.
    /// </summary>
    internal static string WallTimeLine(TimeSpan wall, IEnumerable<StepTiming> steps)
    {
        var copy = steps.Where(s => s.State == "Load shards").Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Duration);
        var rest = wall - copy;
        return string.Create(CultureInfo.InvariantCulture, $"Wall time  {Seconds(wall)}: loading rows (the Map's COPY) {Seconds(copy)}, everything else {Seconds(rest)} ({rest / wall:P0} of the wall time)");
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds >= 1 ? $"{t.TotalSeconds:0.0} s" : $"{t.TotalMilliseconds:0} ms";

    private static string Relative(string path) => Path.GetRelativePath(ProjectPaths.Root, path);
}
