using Npgsql;
using Writeback.Aggregate.Warehouse;
using Writeback.Cli.Local;
using Writeback.Steps.Contract;
using Writeback.Testing;

namespace Writeback.Cli.Tests.Local;

/// <summary>
/// The whole path on one machine, every hop real: DuckDB warehouse → Parquet shards + manifest → publish to Google's
/// Pub/Sub emulator, its push given an OIDC token and sent over HTTP (the built-in push where the emulator is absent) →
/// verified trigger → statemachines/writeback.asl.json on the local engine → PostgreSQL.
/// </summary>
public sealed class DemoRunnerTests(PubSubEmulatorFixture pubsub) : IClassFixture<PubSubEmulatorFixture>, IAsyncLifetime
{
    private static readonly DateOnly Day = new(2026, 11, 25);

    // Each test gets its own database and state folder: the ledger remembers batches, which is the point.
    private readonly PostgresDatabase database = new();
    private readonly string _state = Directory.CreateTempSubdirectory("writeback-demo-test-").FullName;

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task A_batch_travels_the_whole_path_and_a_second_run_changes_nothing()
    {
        var first = await RunAsync(Day);

        // Through Google's emulator where it is installed (this machine and CI), and saying so.
        Assert.Contains(pubsub.Emulator is null ? "built-in push" : "Google's emulator", first.PubSub, StringComparison.Ordinal);
        Assert.All(first.Datasets, d => Assert.True(d.Succeeded, $"{d.Dataset}: {d.Status} {d.Error} {d.Cause}"));
        var students = first.Datasets.Single(d => d.Dataset == "student_dashboard");
        Assert.Equal(StepAction.Load, students.Action);
        Assert.True(students.Aggregate.Rows > 1000, $"only {students.Aggregate.Rows} rows");
        Assert.Equal(students.Aggregate.Rows, students.Published?.Inserted);
        Assert.Equal(students.Aggregate.Rows, await CountAsync("dashboard.student_daily", Day));
        var classes = first.Datasets.Single(d => d.Dataset == "class_summary");
        Assert.Equal(classes.Aggregate.Rows, await CountAsync("dashboard.class_daily", Day));
        Assert.Contains(students.Steps, s => s.State == "Publish");
        Assert.True(File.Exists(students.HistoryPath), "the execution history is kept on disk");

        var before = await FingerprintAsync();
        var second = await RunAsync(Day);

        Assert.All(second.Datasets, d =>
        {
            Assert.True(d.Succeeded, $"{d.Dataset}: {d.Status} {d.Error} {d.Cause}");
            Assert.Equal(StepAction.Applied, d.Action);
        });
        // A second run is a second export, so a new batch; its content equals the applied one, so nothing loads.
        Assert.NotEqual(students.Aggregate.BatchId, second.Datasets.Single(d => d.Dataset == "student_dashboard").Aggregate.BatchId);
        Assert.Equal(before, await FingerprintAsync());
    }

    [Fact]
    public async Task A_new_business_date_adds_its_own_partition_and_leaves_the_previous_one_alone()
    {
        await RunAsync(Day);
        var before = await FingerprintAsync(Day);

        var next = await RunAsync(Day.AddDays(1));

        var students = next.Datasets.Single(d => d.Dataset == "student_dashboard");
        Assert.True(students.Succeeded, $"{students.Status} {students.Error} {students.Cause}");
        Assert.Equal(StepAction.Load, students.Action);
        Assert.Equal(students.Aggregate.Rows, students.Published?.Inserted);
        Assert.Equal(0, students.Published?.Deleted);
        Assert.Equal(students.Aggregate.Rows, await CountAsync("dashboard.student_daily", Day.AddDays(1)));
        Assert.Equal(before, await FingerprintAsync(Day));
    }

    private Task<DemoOutcome> RunAsync(DateOnly date) =>
        DemoRunner.RunAsync(
            new DemoOptions
            {
                ConnectionString = database.ConnectionString, Size = WarehouseSize.Small, BusinessDate = date, StateFolder = _state,
                PubSub = PubSubEmulatorFixture.OwnTopic(pubsub.Emulator),
            },
            new Progress<DemoProgress>(),
            CancellationToken.None);

    private async Task<long> CountAsync(string table, DateOnly date)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table} WHERE business_date = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = date });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A digest of the student table's content (optionally one date): equal digests mean nothing changed.</summary>
    private async Task<string> FingerprintAsync(DateOnly? date = null)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT md5(string_agg(t::text, '|' ORDER BY student_id, business_date)) FROM dashboard.student_daily t WHERE $1::date IS NULL OR business_date = $1",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = date.HasValue ? date.Value : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Date });
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
