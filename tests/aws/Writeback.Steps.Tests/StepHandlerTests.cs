using System.Text.Json;
using System.Text.Json.Nodes;
using Writeback.Core.Contracts;
using Writeback.Core.Tests.Support;
using Writeback.Functions;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Steps.Tests;

public sealed class StepHandlerTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly TestBatches _batches = new();
    private readonly string _targets = Directory.CreateTempSubdirectory("writeback-targets-").FullName;

    public void Dispose()
    {
        _batches.Dispose();
        Directory.Delete(_targets, recursive: true);
    }

    private Dictionary<string, IFunctionHandler> Handlers(params Target[] targets)
    {
        foreach (var target in targets)
        {
            File.WriteAllText(Path.Combine(_targets, target.Dataset + ".json"), JsonSerializer.Serialize(target, ContractJson.Default.Target));
        }

        return StepHandlers.Create(new StepOptions(database.ConnectionString, _targets, TestSources)).ToDictionary(h => h.Name);
    }

    private static async Task<JsonNode> InvokeAsync(Dictionary<string, IFunctionHandler> handlers, string name, object payload)
    {
        var json = payload as string ?? JsonSerializer.Serialize((JsonObject)payload);
        return JsonNode.Parse(await handlers[name].InvokeAsync(json, InvocationContext.Local(TimeSpan.FromMinutes(1)), default))!;
    }

    private static async Task<FunctionException> FailsAsync(Dictionary<string, IFunctionHandler> handlers, string name, object payload) =>
        Assert.IsType<FunctionException>(await Record.ExceptionAsync(() => InvokeAsync(handlers, name, payload)));

    [Fact]
    public void The_handlers_carry_the_function_names_the_state_machine_uses()
    {
        var names = Handlers().Keys.Order();

        Assert.Equal(["writeback-cleanup", "writeback-load-shard", "writeback-prepare", "writeback-publish", "writeback-verify"], names);
    }

    [Fact]
    public async Task A_batch_runs_through_the_five_functions_as_json()
    {
        var target = ScoresTarget("steps_flow", LoadMode.ReplacePartition);
        var handlers = Handlers(target);
        var manifest = await _batches.WriteScoresAsync("steps-flow-1", target.Dataset, [Scores(Day1, 40), Scores(Day1, 2, firstId: 41)], "2026-11-01");

        // What the state machine passes to Prepare: the execution input, extra fields included.
        var prepared = await InvokeAsync(handlers, "writeback-prepare", new JsonObject
        {
            ["version"] = 1, ["batchId"] = "steps-flow-1", ["dataset"] = target.Dataset, ["partition"] = "2026-11-01",
            ["manifestUri"] = manifest, ["sequence"] = 1, ["traceparent"] = "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01",
        });
        var shards = new List<JsonNode>();
        foreach (var index in prepared["shardIndices"]!.AsArray())
        {
            shards.Add(await InvokeAsync(handlers, "writeback-load-shard", new JsonObject { ["batchId"] = "steps-flow-1", ["manifestUri"] = manifest, ["shardIndex"] = index!.GetValue<int>() }));
        }

        var batch = new JsonObject { ["batchId"] = "steps-flow-1", ["manifestUri"] = manifest };
        var verified = await InvokeAsync(handlers, "writeback-verify", batch.DeepClone());
        var published = await InvokeAsync(handlers, "writeback-publish", batch.DeepClone());
        var again = await InvokeAsync(handlers, "writeback-publish", batch.DeepClone());
        var cleaned = await InvokeAsync(handlers, "writeback-cleanup", batch.DeepClone());
        var reprepared = await InvokeAsync(handlers, "writeback-prepare", new JsonObject { ["manifestUri"] = manifest });

        Assert.Equal(
            $$"""{"batchId":"steps-flow-1","dataset":"steps_flow","target":"test.steps_flow","manifestUri":{{JsonSerializer.Serialize(manifest)}},"shardCount":2,"shardIndices":[0,1],"action":"load","reason":null,"traceparent":"00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01"}""",
            prepared.ToJsonString());
        Assert.Equal("""{"shardIndex":0,"rows":40,"bytes":""" + new FileInfo(Path.Combine(Path.GetDirectoryName(manifest)!, "shard-00000.parquet")).Length + ""","status":"loaded"}""", shards[0].ToJsonString());
        Assert.Equal("""{"batchId":"steps-flow-1","rows":42,"shards":2}""", verified.ToJsonString());
        Assert.Equal("""{"batchId":"steps-flow-1","status":"applied","inserted":42,"updated":0,"deleted":0,"unchanged":0,"reason":null,"rejected":0,"firstRejects":[],"samples":null}""", published.ToJsonString());
        Assert.Equal("already_applied", again["status"]!.GetValue<string>());
        Assert.Equal("""{"batchId":"steps-flow-1","dropped":false,"recordedFailure":false}""", cleaned.ToJsonString());
        Assert.Equal(("applied", 0), (reprepared["action"]!.GetValue<string>(), reprepared["shardIndices"]!.AsArray().Count));
    }

    [Fact]
    public async Task A_repeated_shard_load_reports_already_loaded()
    {
        var target = ScoresTarget("steps_repeat", LoadMode.ReplacePartition);
        var handlers = Handlers(target);
        var manifest = await _batches.WriteScoresAsync("steps-repeat-1", target.Dataset, [Scores(Day1, 5)], "2026-11-01");
        await InvokeAsync(handlers, "writeback-prepare", new JsonObject { ["manifestUri"] = manifest });
        var load = new JsonObject { ["batchId"] = "steps-repeat-1", ["manifestUri"] = manifest, ["shardIndex"] = 0 };

        await InvokeAsync(handlers, "writeback-load-shard", load.DeepClone());
        var second = await InvokeAsync(handlers, "writeback-load-shard", load.DeepClone());

        Assert.Equal("already_loaded", second["status"]!.GetValue<string>());
        Assert.Equal(5, second["rows"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_invalid_batch_is_reported_as_Writeback_InvalidBatch_naming_the_problem()
    {
        var target = ScoresTarget("steps_invalid", LoadMode.ReplacePartition);
        var handlers = Handlers(target);
        var manifest = await _batches.WriteScoresAsync("steps-invalid-1", target.Dataset, [Scores(Day1, 5)], "2026-11-01", edit: m => m with { Version = 7 });

        var error = await FailsAsync(handlers, "writeback-prepare", new JsonObject { ["manifestUri"] = manifest });

        Assert.Equal("Writeback.InvalidBatch", error.ErrorType);
        Assert.Contains("field 'version': unknown manifest version 7", error.Message);
    }

    [Fact]
    public async Task A_prepare_whose_batch_id_differs_from_the_manifest_is_invalid()
    {
        var target = ScoresTarget("steps_other_id", LoadMode.ReplacePartition);
        var handlers = Handlers(target);
        var manifest = await _batches.WriteScoresAsync("steps-other-id-1", target.Dataset, [Scores(Day1, 5)], "2026-11-01");

        var error = await FailsAsync(handlers, "writeback-prepare", new JsonObject { ["manifestUri"] = manifest, ["batchId"] = "someone-else" });

        Assert.Equal("Writeback.InvalidBatch", error.ErrorType);
        Assert.Contains("field 'batchId'", error.Message);
    }

    [Fact]
    public async Task Malformed_step_input_is_invalid_and_names_the_field()
    {
        var handlers = Handlers();

        var missing = await FailsAsync(handlers, "writeback-load-shard", """{"batchId":"b","manifestUri":"/x"}""");
        var mistyped = await FailsAsync(handlers, "writeback-load-shard", """{"batchId":"b","manifestUri":"/x","shardIndex":"zero"}""");

        Assert.Equal(("Writeback.InvalidBatch", "Writeback.InvalidBatch"), (missing.ErrorType, mistyped.ErrorType));
        Assert.Contains("shardIndex", missing.Message);
        Assert.Contains("$.shardIndex", mistyped.Message);
    }

    [Fact]
    public async Task The_same_batch_id_with_different_content_is_reported_as_Writeback_Conflict()
    {
        var target = ScoresTarget("steps_conflict", LoadMode.ReplacePartition);
        var handlers = Handlers(target);
        await InvokeAsync(handlers, "writeback-prepare", new JsonObject { ["manifestUri"] = await _batches.WriteScoresAsync("steps-conflict-1", target.Dataset, [Scores(Day1, 5)], "2026-11-01") });
        var changed = await _batches.WriteScoresAsync("steps-conflict-1", target.Dataset, [Scores(Day1, 6)], "2026-11-01");

        var error = await FailsAsync(handlers, "writeback-prepare", new JsonObject { ["manifestUri"] = changed });

        Assert.Equal("Writeback.Conflict", error.ErrorType);
    }

    [Fact]
    public async Task An_unreachable_database_is_reported_as_Writeback_Transient()
    {
        var target = ScoresTarget("steps_down", LoadMode.ReplacePartition);
        File.WriteAllText(Path.Combine(_targets, "steps_down.json"), JsonSerializer.Serialize(target, ContractJson.Default.Target));
        var handlers = StepHandlers.Create(new StepOptions("Host=127.0.0.1;Port=1;Username=x;Password=y;Timeout=3", _targets, TestSources)).ToDictionary(h => h.Name);
        var manifest = await _batches.WriteScoresAsync("steps-down-1", target.Dataset, [Scores(Day1, 5)], "2026-11-01");

        var error = await FailsAsync(handlers, "writeback-prepare", new JsonObject { ["manifestUri"] = manifest });

        Assert.Equal("Writeback.Transient", error.ErrorType);
    }

    [Fact]
    public async Task Cleanup_after_a_failure_drops_staging_and_records_the_error()
    {
        var target = ScoresTarget("steps_failed", LoadMode.ReplacePartition);
        var handlers = Handlers(target);
        var manifest = await _batches.WriteScoresAsync("steps-failed-1", target.Dataset, [Scores(Day1, 5)], "2026-11-01");
        await InvokeAsync(handlers, "writeback-prepare", new JsonObject { ["manifestUri"] = manifest });

        var cleaned = await InvokeAsync(handlers, "writeback-cleanup", new JsonObject
        {
            ["batchId"] = "steps-failed-1", ["manifestUri"] = manifest,
            ["error"] = new JsonObject { ["Error"] = "Writeback.InvalidBatch", ["Cause"] = "{\"errorMessage\":\"bad\"}" },
        });

        Assert.Equal("""{"batchId":"steps-failed-1","dropped":true,"recordedFailure":true}""", cleaned.ToJsonString());
        Assert.Equal("failed", await ScalarAsync<string>(database.ConnectionString, "SELECT status FROM writeback.batches WHERE batch_id = 'steps-failed-1'"));
    }

    [Fact]
    public async Task Cleanup_after_a_batch_that_never_prepared_still_answers()
    {
        var handlers = Handlers();

        var cleaned = await InvokeAsync(handlers, "writeback-cleanup", new JsonObject
        {
            ["batchId"] = "never-prepared", ["manifestUri"] = "/nonexistent/manifest.json",
            ["error"] = new JsonObject { ["Error"] = "Writeback.InvalidBatch", ["Cause"] = "manifest not found" },
        });

        Assert.Equal("""{"batchId":"never-prepared","dropped":false,"recordedFailure":false}""", cleaned.ToJsonString());
    }

    [Fact]
    public void Options_from_the_environment_name_the_missing_variable()
    {
        var environment = new Dictionary<string, string> { [StepOptions.ConnectionVariable] = "Host=db", ["WRITEBACK_BUCKET"] = "exports" };

        var error = Assert.Throws<InvalidOperationException>(() => StepOptions.FromEnvironment(environment.GetValueOrDefault));

        Assert.Contains("WRITEBACK_TARGETS", error.Message);
    }

    [Fact]
    public void Deployed_steps_without_a_bucket_do_not_start_and_say_which_variable_is_missing()
    {
        var environment = new Dictionary<string, string> { [StepOptions.ConnectionVariable] = "Host=db", [StepOptions.TargetsVariable] = _targets };

        var error = Assert.Throws<InvalidOperationException>(() => StepOptions.FromEnvironment(environment.GetValueOrDefault));

        Assert.Contains("WRITEBACK_BUCKET", error.Message);
    }

    [Fact]
    public async Task Deployed_steps_read_only_signed_urls_of_the_bucket_even_when_a_local_file_is_named()
    {
        var target = ScoresTarget("steps_cloud_only", LoadMode.ReplacePartition);
        Handlers(target);
        var environment = new Dictionary<string, string>
        {
            [StepOptions.ConnectionVariable] = database.ConnectionString, [StepOptions.TargetsVariable] = _targets, ["WRITEBACK_BUCKET"] = "exports",
        };
        var handlers = StepHandlers.Create(StepOptions.FromEnvironment(environment.GetValueOrDefault)).ToDictionary(h => h.Name);
        var manifest = await _batches.WriteScoresAsync("steps-cloud-1", target.Dataset, [Scores(Day1, 2)], "2026-11-01");

        var error = await FailsAsync(handlers, "writeback-prepare", new JsonObject { ["manifestUri"] = manifest, ["batchId"] = "steps-cloud-1" });

        Assert.Equal("Writeback.InvalidBatch", error.ErrorType);
        Assert.Contains("local files are never read here", error.Message, StringComparison.Ordinal);
    }
}
