using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Writeback.Cli.Local;
using Writeback.Testing;
using Xunit.Abstractions;

namespace Writeback.Cli.Tests.Local;

/// <summary>
/// <c>writeback backfill</c> and <c>writeback rollback</c> as a user runs them: the CLI as a real process on a project
/// root of the test's own, every date through export → event (the built-in push: an OIDC-signed HTTP push, so no JVM
/// per process) → verified trigger → the state machine on the local engine → the writers as Lambda processes →
/// PostgreSQL.
/// </summary>
public sealed class BackfillAndRollbackTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Dataset = "student_dashboard";
    private static readonly DateOnly First = new(2026, 11, 20);

    private readonly PostgresDatabase _database = new();
    private readonly string _root = Directory.CreateTempSubdirectory("writeback-backfill-test-").FullName;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        foreach (var folder in new[] { "targets", "statemachines" })
        {
            Directory.CreateDirectory(Path.Combine(_root, folder));
            foreach (var file in Directory.GetFiles(Path.Combine(ProjectPaths.Root, folder)))
            {
                File.Copy(file, Path.Combine(_root, folder, Path.GetFileName(file)));
            }
        }

        File.Copy(Path.Combine(ProjectPaths.Root, "template.yaml"), Path.Combine(_root, "template.yaml"));
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private static string Day(int offset) => First.AddDays(offset).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_backfill_applies_one_batch_per_date_in_date_order_and_a_rerun_loads_nothing_again()
    {
        var run = await CliAsync(_database.ConnectionString, "backfill", "--dataset", Dataset, "--from", Day(0), "--to", Day(2));

        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.Equal([Day(0), Day(1), Day(2)], SummaryLines(run, "loaded").Select(l => l[..10]));
        var perDate = await RowsPerDateAsync(_database.ConnectionString);
        Assert.Equal(3, perDate.Count);
        Assert.All(perDate.Values, rows => Assert.True(rows > 1000, $"{rows} rows"));
        var firstPrepared = await ScalarAsync<string>(_database.ConnectionString,
            $"SELECT string_agg(partition_value, ',' ORDER BY prepared_at) FROM writeback.batches WHERE dataset = '{Dataset}'");
        Assert.Equal($"{Day(0)},{Day(1)},{Day(2)}", firstPrepared);
        var digest = await DigestAsync(_database.ConnectionString);

        var again = await CliAsync(_database.ConnectionString, "backfill", "--dataset", Dataset, "--from", Day(0), "--to", Day(2));

        Assert.True(again.ExitCode == 0, again.Describe());
        Assert.Equal(3, SummaryLines(again, "already applied").Count);
        Assert.Equal(digest, await DigestAsync(_database.ConnectionString));
    }

    [Fact]
    public async Task A_backfill_killed_mid_way_and_run_again_skips_the_applied_dates_finishes_the_rest_and_ends_as_an_uninterrupted_one()
    {
        string[] args = ["backfill", "--dataset", Dataset, "--from", Day(0), "--to", Day(3)];
        await using var reference = new PostgresDatabase();
        await reference.InitializeAsync();
        var uninterrupted = await CliAsync(reference.ConnectionString, args);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Describe());

        // SIGKILL of the CLI once a date is applied and the next one is being loaded (its execution RUNNING, its batch
        // prepared or verified): no shutdown, no cleanup, the function processes orphaned.
        var clock = Stopwatch.StartNew();
        using (var first = StartCli(_database.ConnectionString, args))
        {
            await UntilAsync(async () => await ScalarAsync<long>(_database.ConnectionString, $"""
                SELECT CASE WHEN count(*) FILTER (WHERE status = 'applied') >= 1 AND count(*) FILTER (WHERE status IN ('prepared', 'verified')) >= 1 THEN 1 ELSE 0 END
                FROM writeback.batches WHERE dataset = '{Dataset}'
                """) == 1 || first.HasExited);
            Assert.False(first.HasExited, "the backfill ended before it could be killed");
            first.Kill();
            await first.WaitForExitAsync();
        }

        var appliedBeforeKill = await PartitionsAsync(_database.ConnectionString, "status = 'applied'");
        var inFlight = await PartitionsAsync(_database.ConnectionString, "status IN ('prepared', 'verified')");
        output.WriteLine($"killed after {clock.ElapsedMilliseconds} ms: applied {string.Join(",", appliedBeforeKill)}; in flight {string.Join(",", inFlight)}");
        Assert.InRange(appliedBeforeKill.Count, 1, 3);
        Assert.Single(inFlight);

        var rerun = await CliAsync(_database.ConnectionString, args);

        Assert.True(rerun.ExitCode == 0, rerun.Describe());
        var already = SummaryLines(rerun, "already applied").Select(l => l[..10]).ToList();
        // Every date applied before the kill is skipped; the one in flight may have been finished by its resumed
        // execution before its new export arrived, and is then skipped too. The others load.
        Assert.Superset(appliedBeforeKill.ToHashSet(), already.ToHashSet());
        Assert.Subset(appliedBeforeKill.Concat(inFlight).ToHashSet(), already.ToHashSet());
        Assert.Equal(4, SummaryLines(rerun, "loaded").Count + already.Count + SummaryLines(rerun, "skipped").Count);
        Assert.Equal(await DigestAsync(reference.ConnectionString), await DigestAsync(_database.ConnectionString));
        Assert.Equal(0L, await ScalarAsync<long>(_database.ConnectionString, "SELECT count(*) FROM writeback.batches WHERE status NOT IN ('applied', 'skipped', 'failed')"));
        Assert.Equal(0L, await ScalarAsync<long>(_database.ConnectionString, "SELECT count(*) FROM pg_tables WHERE schemaname = 'writeback_staging' AND tablename <> 'intact'"));
    }

    [Fact]
    public async Task A_parallel_backfill_beyond_the_connection_budget_is_refused_before_anything_runs()
    {
        var budget = ConnectionBudget.Read(Path.Combine(_root, "template.yaml"), Path.Combine(_root, "statemachines", "writeback.asl.json"));
        Assert.Equal(2, budget.MaxBatches);

        var run = await CliAsync(_database.ConnectionString, "backfill", "--dataset", Dataset, "--from", Day(0), "--to", Day(3), "--parallel", "3");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--parallel 3 is refused", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("reserves 16 for writeback-load-shard: at most 2 batch(es) at once", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("Use --parallel 2 or less", run.Stderr, StringComparison.Ordinal);
        Assert.False(await ScalarAsync<bool>(_database.ConnectionString, "SELECT to_regclass('writeback.batches') IS NOT NULL"));
    }

    [Fact]
    public async Task A_rollback_puts_the_earlier_batch_back_records_who_and_why_and_alerts_and_one_whose_shards_are_gone_is_refused()
    {
        string[] backfill = ["backfill", "--dataset", Dataset, "--from", Day(0), "--to", Day(0)];
        Assert.Equal(0, (await CliAsync(_database.ConnectionString, backfill)).ExitCode);
        var asA = await DigestAsync(_database.ConnectionString);
        var batchA = await ScalarAsync<string>(_database.ConnectionString, "SELECT batch_id FROM writeback.watermarks");

        // A bad correction upstream: the warehouse changes and the next export of the day (B) is applied over A.
        await using (var warehouse = new DuckDB.NET.Data.DuckDBConnection($"Data Source={Directory.GetFiles(Path.Combine(_root, ".writeback"), "warehouse-small-*.duckdb").Single()}"))
        {
            await warehouse.OpenAsync();
            await using var change = warehouse.CreateCommand();
            change.CommandText = $"UPDATE study_sessions SET minutes = minutes * 2 WHERE event_date = DATE '{Day(0)}' AND student_id % 5 = 0";
            Assert.True(await change.ExecuteNonQueryAsync() > 0);
        }

        var b = await CliAsync(_database.ConnectionString, backfill);
        Assert.True(b.ExitCode == 0, b.Describe());
        Assert.Single(SummaryLines(b, "loaded"));
        var asB = await DigestAsync(_database.ConnectionString);
        Assert.NotEqual(asA, asB);
        var batchB = await ScalarAsync<string>(_database.ConnectionString, "SELECT batch_id FROM writeback.watermarks");

        var rollback = await CliAsync(_database.ConnectionString, "rollback", "--dataset", Dataset, "--date", Day(0), "--by", "alice", "--reason", "B doubled the study minutes");

        Assert.True(rollback.ExitCode == 0, rollback.Describe());
        Assert.Equal(asA, await DigestAsync(_database.ConnectionString));
        Assert.Equal(batchA, await ScalarAsync<string>(_database.ConnectionString, "SELECT batch_id FROM writeback.watermarks"));
        Assert.Equal($"{batchB}|alice|B doubled the study minutes|applied", await ScalarAsync<string>(_database.ConnectionString,
            $"SELECT concat_ws('|', replaces, requested_by, reason, status) FROM writeback.rollbacks WHERE batch_id = '{batchA}'"));
        // Run history: the alert is kept with who and why, and went to the log sink (.writeback/alerts.jsonl).
        var alert = await ScalarAsync<string>(_database.ConnectionString, "SELECT message FROM writeback_runs.alerts WHERE kind = 'rollback'");
        Assert.Contains("by alice: B doubled the study minutes", alert, StringComparison.Ordinal);
        Assert.Contains(alert, rollback.Stdout, StringComparison.Ordinal);
        Assert.Contains("B doubled the study minutes", await File.ReadAllTextAsync(Path.Combine(_root, ".writeback", "alerts.jsonl")), StringComparison.Ordinal);
        Assert.Equal("SUCCEEDED", await ScalarAsync<string>(_database.ConnectionString,
            "SELECT status FROM writeback_sfn.executions WHERE name LIKE '%\\_rb1\\_%'"));

        // Putting B back needs B's shards; once they are gone, the rollback is refused and nothing changes.
        var shard = Directory.GetFiles(Path.Combine(_root, ".writeback", "exports", Dataset, Day(0), batchB), "*.parquet").First();
        File.Delete(shard);
        var ledger = await ScalarAsync<string>(_database.ConnectionString, "SELECT string_agg(concat_ws(',', batch_id, status), ' ' ORDER BY batch_id) FROM writeback.batches");

        var refused = await CliAsync(_database.ConnectionString, "rollback", "--dataset", Dataset, "--date", Day(0), "--to", batchB, "--reason", "undo the undo");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"batch '{batchB}' is no longer retained", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(shard), refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("shard_retention_days", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(asA, await DigestAsync(_database.ConnectionString));
        Assert.Equal(ledger, await ScalarAsync<string>(_database.ConnectionString, "SELECT string_agg(concat_ws(',', batch_id, status), ' ' ORDER BY batch_id) FROM writeback.batches"));
        Assert.Equal(1L, await ScalarAsync<long>(_database.ConnectionString, "SELECT count(*) FROM writeback.rollbacks"));
    }

    private sealed record CliRun(int ExitCode, string Stdout, string Stderr)
    {
        public string Describe() => $"exit {ExitCode}\n{Stdout}\n{Stderr}";
    }

    /// <summary>The summary table's rows whose outcome column says <paramref name="outcome"/>.</summary>
    private static List<string> SummaryLines(CliRun run, string outcome) =>
        [.. run.Stdout.Split('\n').Where(l => l.Length > 10 && DateOnly.TryParseExact(l[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
            && l.Contains($"  {outcome} ", StringComparison.Ordinal))];

    /// <summary>The CLI as ./writeback runs it, on the test's project root and database.</summary>
    private ProcessStartInfo Cli(string database, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "writeback.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["WRITEBACK_PG"] = database;
        start.Environment["WRITEBACK_ROOT"] = _root;
        start.Environment["WRITEBACK_PUBSUB"] = "builtin";
        return start;
    }

    private Process StartCli(string database, params string[] args)
    {
        var process = Process.Start(Cli(database, args))!;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.WriteLine($"[{args[0]} {process.Id}] {line}");
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private async Task<CliRun> CliAsync(string database, params string[] args)
    {
        using var process = Process.Start(Cli(database, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        var run = new CliRun(process.ExitCode, await stdout, await stderr);
        output.WriteLine($"$ writeback {string.Join(' ', args)}\n{run.Describe()}");
        return run;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 5 minutes");
            await Task.Delay(100);
        }
    }

    private static async Task<T> ScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        try
        {
            return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), CultureInfo.InvariantCulture);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable && typeof(T) == typeof(long))
        {
            // Before the first Prepare the ledger does not exist yet: nothing applied.
            return (T)(object)0L;
        }
    }

    private static async Task<List<string>> PartitionsAsync(string database, string where)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT DISTINCT partition_value FROM writeback.batches WHERE dataset = '{Dataset}' AND {where} ORDER BY 1", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var partitions = new List<string>();
        while (await reader.ReadAsync())
        {
            partitions.Add(reader.GetString(0));
        }

        return partitions;
    }

    private static async Task<Dictionary<DateOnly, long>> RowsPerDateAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT business_date, count(*) FROM dashboard.student_daily GROUP BY 1", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<DateOnly, long>();
        while (await reader.ReadAsync())
        {
            rows[reader.GetFieldValue<DateOnly>(0)] = reader.GetInt64(1);
        }

        return rows;
    }

    private static Task<string> DigestAsync(string database) => ScalarAsync<string>(database,
        "SELECT md5(string_agg(t::text, '|' ORDER BY business_date, student_id)) FROM dashboard.student_daily t");
}
