using System.Text.Json.Nodes;
using Npgsql;
using Writeback.Aggregate;
using Writeback.Cli.Local;
using Writeback.StepFunctions;
using Writeback.Testing;
using Writeback.Trigger.Auth;

namespace Writeback.Cli.Tests.Local;

/// <summary>A dry run as an execution of the deployed workflow with "dryRun": true, through the real functions and PostgreSQL.</summary>
public sealed class DryRunnerTests : IAsyncLifetime, IDisposable
{
    private static readonly DateOnly Day = new(2026, 11, 25);
    private readonly string _state = Directory.CreateTempSubdirectory("writeback-dry-run-test-").FullName;
    private readonly PostgresDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task A_dry_run_execution_reports_what_publish_would_do_writes_nothing_and_the_batch_event_afterwards_applies_it()
    {
        await using var aws = await LocalAwsSide.StartAsync(
            new LocalAwsSideOptions { ConnectionString = _database.ConnectionString, IssuerKeyPath = Path.Combine(_state, "oidc.pem"), ExportsFolder = Path.Combine(_state, "exports") },
            CancellationToken.None);
        var started = new List<Execution>();
        aws.Engine.ExecutionStarted += started.Add;
        var time = new FixedTime(DateTimeOffset.UtcNow);
        var export = await AggregateRunner.CreateLocal(Options(aws, publish: false), timeProvider: time).RunAsync("class_summary", Day);

        var dry = await DryRunner.RunAsync(aws, export.ManifestUri, CancellationToken.None);

        Assert.True(dry.Succeeded, $"{dry.Error}: {dry.Cause}");
        var published = dry.Output!["published"]!;
        Assert.Equal("dry_run", published["status"]!.GetValue<string>());
        Assert.Equal(export.Rows, published["inserted"]!.GetValue<long>());
        Assert.Equal(0L, published["updated"]!.GetValue<long>() + published["deleted"]!.GetValue<long>());
        Assert.Equal(LoadEngineSamples, published["samples"]!["inserted"]!.AsArray().Count);
        Assert.True(dry.Output["dryRun"]!.GetValue<bool>());
        Assert.Equal(0L, await CountAsync("dashboard.class_daily"));
        Assert.Equal(0L, await CountAsync("writeback.batches"));
        Assert.Equal(0L, await CountAsync("writeback_runs.batches"));
        Assert.Contains("would apply", DryRunner.Describe(dry), StringComparison.Ordinal);

        // The same export again, now with its event: the trigger starts the batch's own execution, not a duplicate.
        var real = await AggregateRunner.CreateLocal(Options(aws, publish: true), new IssuerTokenSource(aws.Issuer, LocalAwsSide.PushServiceAccount), timeProvider: time)
            .RunAsync("class_summary", Day);
        var execution = started.Single(e => e.Name != dry.ExecutionName);
        await execution.Completion;

        Assert.Equal(export.BatchId, real.BatchId);
        Assert.Equal("SUCCEEDED", execution.StatusName);
        Assert.Equal("applied", JsonNode.Parse(execution.OutputJson!)!["published"]!["status"]!.GetValue<string>());
        Assert.Equal(export.Rows, await CountAsync("dashboard.class_daily"));
    }

    [Fact]
    public async Task A_dryRun_that_is_not_a_boolean_fails_the_execution_before_any_step_runs()
    {
        await using var aws = await LocalAwsSide.StartAsync(
            new LocalAwsSideOptions { ConnectionString = _database.ConnectionString, IssuerKeyPath = Path.Combine(_state, "oidc.pem"), ExportsFolder = Path.Combine(_state, "exports") },
            CancellationToken.None);

        var execution = aws.Engine.StartExecution(aws.StateMachine, """{"manifestUri": "file:///nowhere/manifest.json", "dryRun": "yes"}""", "dry-run-not-boolean");
        await execution.Completion;

        Assert.Equal("FAILED", execution.StatusName);
        Assert.Equal("Writeback.InvalidBatch", execution.Error);
        Assert.Contains("field 'dryRun': must be true or false", execution.Cause, StringComparison.Ordinal);
        Assert.DoesNotContain(execution.History, e => e.Type == "TaskScheduled");
    }

    private const int LoadEngineSamples = Writeback.Core.Engine.LoadEngine.SampleRows;

    private LocalAggregateOptions Options(LocalAwsSide aws, bool publish) => LocalExports.Options(_state, Day, aws, publish);

    /// <summary>Rows of a table, 0 when it does not exist (the dry run may never have created it).</summary>
    private async Task<long> CountAsync(string table)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand($"SELECT to_regclass('{table}') IS NOT NULL", connection);
        if (await exists.ExecuteScalarAsync() is not true)
        {
            return 0;
        }

        await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
