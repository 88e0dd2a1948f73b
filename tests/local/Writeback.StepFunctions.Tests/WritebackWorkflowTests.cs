using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>
/// statemachines/writeback.asl.json itself, the file SAM deploys, run with the MockConfigFile in mocks/ and with fake
/// handlers that honour the functions' contracts.
/// </summary>
public sealed class WritebackWorkflowTests
{
    private const string Input = """{"manifestUri":"file:///tmp/writeback/orders/manifest.json","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}""";
    private const string ExecutionName = "orders-2026-01-01T00-00-00Z";

    private static string Definition()
    {
        var root = RepoRoot();
        var substitutions = DefinitionSubstitutions.ParseJson(File.ReadAllText(Path.Combine(root, "statemachines", "local-substitutions.json")));
        return DefinitionSubstitutions.Apply(File.ReadAllText(Path.Combine(root, "statemachines", "writeback.asl.json")), substitutions);
    }

    private static async Task<Execution> RunCase(string testCase)
    {
        var mocks = MockConfig.Parse(File.ReadAllText(Path.Combine(RepoRoot(), "tests", "local", "Writeback.StepFunctions.Tests", "mocks", "writeback.mock.json")));
        var engine = Engine();
        var machine = engine.CreateStateMachine("writeback", Definition());
        return await engine.RunAsync(machine, Input, ExecutionName, mocks.TestCase("writeback", testCase));
    }

    private static IEnumerable<HistoryEvent> Of(Execution execution, string type, string? state = null) =>
        execution.History.Where(e => e.Type == type && (state is null || e.Details?["name"]?.GetValue<string>() == state));

    /// <summary>Task events carry no state name; pair each TaskScheduled with the TaskStateEntered it follows.</summary>
    private static int TaskCalls(Execution execution, string state, string outcome)
    {
        var byId = execution.History.ToDictionary(e => e.Id);
        return execution.History.Count(e =>
        {
            if (e.Type != outcome)
            {
                return false;
            }

            var current = e;
            while (current.PreviousEventId != 0 && byId.TryGetValue(current.PreviousEventId, out var previous))
            {
                if (previous.Type == "TaskStateEntered")
                {
                    return previous.Details!["name"]!.GetValue<string>() == state;
                }

                current = previous;
            }

            return false;
        });
    }

    [Fact]
    public void The_definition_substitutes_to_the_local_function_arns_and_validates()
    {
        var definition = Definition();
        Assert.Empty(DefinitionSubstitutions.Placeholders(definition));
        Assert.Contains("arn:aws:lambda:us-east-1:000000000000:function:writeback-load-shard", definition);
        Assert.Empty(StateMachineDefinition.Validate(definition));
    }

    [Fact]
    public async Task Happy_path_loads_every_shard_verifies_publishes_and_cleans_up()
    {
        var execution = await RunCase("HappyPath");
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        var output = JsonNode.Parse(execution.OutputJson!)!;
        Assert.Equal("orders-2026-01-01T00-00-00Z", output["batchId"]!.GetValue<string>());
        Assert.Equal("applied", output["published"]!["status"]!.GetValue<string>());
        Assert.Equal(3000, output["verified"]!["rows"]!.GetValue<int>());
        Assert.True(output["cleanup"]!["dropped"]!.GetValue<bool>());
        Assert.Equal(3, Of(execution, "MapIterationSucceeded").Count());
        Assert.Empty(Of(execution, "TaskStateEntered", "Clean up after failure"));
    }

    [Fact]
    public async Task Two_Load_shard_calls_that_fail_with_Writeback_Transient_are_retried_and_the_batch_succeeds()
    {
        var execution = await RunCase("TransientShard");
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        // Responses are numbered over the execution, as in Step Functions Local: the first two calls of "Load shard"
        // fail (whichever iterations make them) and every call after them, the retries included, loads.
        Assert.Equal(2, TaskCalls(execution, "Load shard", "TaskFailed"));
        Assert.Equal(3, TaskCalls(execution, "Load shard", "TaskSucceeded"));
        Assert.True(execution.StopDate > execution.StartDate, "the retries waited (in virtual time) between attempts");
    }

    [Fact]
    public async Task A_poison_shard_fails_the_execution_with_its_original_error_after_the_failure_cleanup_ran()
    {
        var execution = await RunCase("PoisonShard");
        Assert.Equal(ExecutionStatus.Failed, execution.Status);
        Assert.Equal("Writeback.InvalidBatch", execution.Error);
        Assert.Equal("shard 1: column amount is not numeric", execution.Cause);
        Assert.Single(Of(execution, "TaskStateExited", "Clean up after failure"));
        Assert.Empty(Of(execution, "TaskStateEntered", "Verify"));
        Assert.Empty(Of(execution, "TaskStateEntered", "Publish"));
        Assert.True(TaskCalls(execution, "Load shard", "TaskFailed") >= 1);
    }

    [Fact]
    public async Task Writeback_InvalidBatch_is_never_retried()
    {
        var execution = await RunCase("PoisonShard");
        Assert.InRange(TaskCalls(execution, "Load shard", "TaskScheduled"), 1, Of(execution, "MapIterationStarted").Count());
    }

    [Fact]
    public async Task A_batch_Prepare_reports_as_applied_succeeds_without_loading()
    {
        var execution = await RunCase("AlreadyApplied");
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        JsonEqual("""{"batchId":"orders-2026-01-01T00-00-00Z","dataset":"orders","action":"applied","reason":"batch orders-2026-01-01T00-00-00Z is already applied","dryRun":false}""",
            JsonNode.Parse(execution.OutputJson!));
        Assert.Empty(Of(execution, "MapStateEntered"));
    }

    [Fact]
    public async Task An_older_batch_is_skipped_with_its_reason()
    {
        var execution = await RunCase("OlderBatch");
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        Assert.Equal("skip", JsonNode.Parse(execution.OutputJson!)!["action"]!.GetValue<string>());
        Assert.Empty(Of(execution, "MapStateEntered"));
    }

    /// <summary>Fake handlers that honour the contracts, so the payloads the definition builds are checked too.</summary>
    private static DelegateLambdaInvoker ContractFakes(int shards, List<JsonNode> loadPayloads, List<JsonNode> cleanupPayloads, int poisonShard = -1)
    {
        return Functions()
            .Add("writeback-prepare", payload =>
            {
                var input = JsonNode.Parse(payload)!;
                return new JsonObject
                {
                    ["batchId"] = "b-1",
                    ["dataset"] = "orders",
                    ["target"] = "public.orders",
                    ["manifestUri"] = input["manifestUri"]!.GetValue<string>(),
                    ["shardCount"] = shards,
                    ["shardIndices"] = new JsonArray([.. Enumerable.Range(0, shards).Select(i => (JsonNode)i)]),
                    ["action"] = "load",
                    ["reason"] = null,
                    ["traceparent"] = input["traceparent"]?.GetValue<string>(),
                }.ToJsonString();
            })
            .Add("writeback-load-shard", (payload, _) =>
            {
                var input = JsonNode.Parse(payload)!;
                lock (loadPayloads)
                {
                    loadPayloads.Add(input);
                }

                var index = input["shardIndex"]!.GetValue<int>();
                return Task.FromResult(index == poisonShard
                    ? LambdaInvocationResult.Failure("Writeback.InvalidBatch", $"shard {index} is corrupt")
                    : Ok($$"""{"shardIndex":{{index}},"rows":10,"bytes":100,"status":"loaded"}"""));
            })
            .Add("writeback-verify", _ => """{"batchId":"b-1","rows":100,"shards":10}""")
            .Add("writeback-publish", _ => """{"batchId":"b-1","status":"applied","inserted":100,"updated":0,"deleted":0,"unchanged":0,"reason":null}""")
            .Add("writeback-cleanup", payload =>
            {
                lock (cleanupPayloads)
                {
                    cleanupPayloads.Add(JsonNode.Parse(payload)!);
                }

                return """{"batchId":"b-1","dropped":true,"recordedFailure":false}""";
            });
    }

    [Fact]
    public async Task Load_shard_receives_only_the_batch_id_the_manifest_uri_the_dry_run_flag_and_one_shard_index()
    {
        var loads = new List<JsonNode>();
        var engine = Engine(ContractFakes(10, loads, []));
        var execution = await engine.RunAsync(engine.CreateStateMachine("writeback", Definition()), Input, ExecutionName);
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        Assert.Equal(Enumerable.Range(0, 10), loads.Select(p => p["shardIndex"]!.GetValue<int>()).Order());
        Assert.All(loads, p => Assert.Equal(["batchId", "dryRun", "manifestUri", "shardIndex"], p.AsObject().Select(kv => kv.Key).Order()));
        Assert.All(loads, p => Assert.Equal("b-1", p["batchId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task DryRun_true_in_the_execution_input_reaches_the_steps_and_its_failure_cleanup()
    {
        var loads = new List<JsonNode>();
        var cleanups = new List<JsonNode>();
        var engine = Engine(ContractFakes(4, loads, cleanups, poisonShard: 2));
        var input = JsonNode.Parse(Input)!.AsObject();
        input["dryRun"] = true;

        var execution = await engine.RunAsync(engine.CreateStateMachine("writeback", Definition()), input.ToJsonString(), "dry-run-1");

        Assert.Equal(ExecutionStatus.Failed, execution.Status);
        Assert.All(loads, p => Assert.True(p["dryRun"]!.GetValue<bool>()));
        Assert.True(Assert.Single(cleanups)["dryRun"]!.GetValue<bool>());
    }

    [Fact]
    public async Task The_failure_cleanup_receives_the_original_error()
    {
        var cleanups = new List<JsonNode>();
        var engine = Engine(ContractFakes(5, [], cleanups, poisonShard: 3));
        var execution = await engine.RunAsync(engine.CreateStateMachine("writeback", Definition()), Input, ExecutionName);
        Assert.Equal(("Writeback.InvalidBatch", "shard 3 is corrupt"), (execution.Error, execution.Cause));
        var cleanup = Assert.Single(cleanups);
        JsonEqual("""{"batchId":"b-1","manifestUri":"file:///tmp/writeback/orders/manifest.json","dryRun":false,"error":{"Error":"Writeback.InvalidBatch","Cause":"shard 3 is corrupt"}}""", cleanup);
    }

    [Fact]
    public async Task The_load_Map_keeps_eight_shards_in_flight_at_most()
    {
        var inFlight = 0;
        var max = 0;
        var invoker = ContractFakes(40, [], []).Add("writeback-load-shard", async (payload, _) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            lock (this)
            {
                max = Math.Max(max, now);
            }

            for (var i = 0; i < 20; i++)
            {
                await Task.Yield();
            }

            Interlocked.Decrement(ref inFlight);
            return Ok("""{"shardIndex":0,"rows":1,"bytes":1,"status":"loaded"}""");
        });
        var engine = Engine(invoker);
        var execution = await engine.RunAsync(engine.CreateStateMachine("writeback", Definition()), Input, ExecutionName);
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        Assert.InRange(max, 1, 8);
    }

    [Fact]
    public async Task Eight_hundred_shards_take_the_inline_Map_and_fit_the_history_limit_even_with_all_three_reloads()
    {
        var verifies = 0;
        var loads = new List<JsonNode>();
        var invoker = ContractFakes(800, loads, []).Add("writeback-verify", (_, _) => Task.FromResult(Interlocked.Increment(ref verifies) <= 3
            ? LambdaInvocationResult.Failure("Writeback.Reload", "staging lost rows")
            : Ok("""{"batchId":"b-1","rows":8000,"shards":800}""")));
        var engine = Engine(invoker);
        var execution = await engine.RunAsync(engine.CreateStateMachine("writeback", Definition()), Input, ExecutionName);
        Assert.True(execution.Status == ExecutionStatus.Succeeded, $"{execution.Error}: {execution.Cause}");
        Assert.Equal(4 * 800, loads.Count);
        Assert.Equal(4, Of(execution, "MapStateEntered", "Load shards").Count());
        Assert.Empty(engine.ListMapRuns(execution.Arn));
        Assert.InRange(execution.History.Count, 22_400, 25_000);
    }

    [Fact]
    public async Task Twenty_thousand_shards_take_the_Distributed_Map_and_the_parent_history_stays_a_few_dozen_events()
    {
        var loads = new List<JsonNode>();
        var engine = Engine(ContractFakes(20_000, loads, []));
        var execution = await engine.RunAsync(engine.CreateStateMachine("writeback", Definition()), Input, ExecutionName);
        Assert.True(execution.Status == ExecutionStatus.Succeeded, $"{execution.Error}: {execution.Cause}");
        Assert.Equal(Enumerable.Range(0, 20_000), loads.Select(l => l["shardIndex"]!.GetValue<int>()).Order());
        Assert.Empty(Of(execution, "MapStateEntered", "Load shards"));
        Assert.InRange(execution.History.Count, 1, 60);
        var run = Assert.Single(engine.ListMapRuns(execution.Arn));
        Assert.Equal(20_000, run.ExecutionCounts.Succeeded);
        Assert.Contains(":mapRun:writeback/shards:", run.Arn, StringComparison.Ordinal);
        Assert.All(run.Children.Take(10), c => Assert.Equal(7, c.History.Count));
    }

    [Fact]
    public async Task A_poison_shard_in_the_Distributed_Map_fails_the_batch_after_the_failure_cleanup_and_names_the_shard_s_error()
    {
        var cleanups = new List<JsonNode>();
        var engine = Engine(ContractFakes(1000, [], cleanups, poisonShard: 7));
        var execution = await engine.RunAsync(engine.CreateStateMachine("writeback", Definition()), Input, ExecutionName);
        Assert.Equal(ExecutionStatus.Failed, execution.Status);
        Assert.Equal(StatesErrors.ExceedToleratedFailureThreshold, execution.Error);
        Assert.Contains("Writeback.InvalidBatch: shard 7 is corrupt", execution.Cause, StringComparison.Ordinal);
        Assert.Equal(StatesErrors.ExceedToleratedFailureThreshold, Assert.Single(cleanups)["error"]!["Error"]!.GetValue<string>());
    }
}
