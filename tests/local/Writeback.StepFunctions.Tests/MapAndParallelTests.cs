using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>Map (ItemProcessor and legacy Iterator) and Parallel: inputs, results, concurrency and failure.</summary>
public sealed class MapAndParallelTests
{
    /// <summary>A function that reports the highest number of calls in flight at once.</summary>
    private sealed class ConcurrencyProbe
    {
        private int _inFlight;
        private int _max;

        public int Max => _max;

        public DelegateLambdaInvoker Invoker() => Functions().Add("f", async (payload, ct) =>
        {
            var now = Interlocked.Increment(ref _inFlight);
            int seen;
            while ((seen = _max) < now && Interlocked.CompareExchange(ref _max, now, seen) != seen)
            {
            }

            // Yield a few times so other iterations get to overlap this one.
            for (var i = 0; i < 20; i++)
            {
                await Task.Yield();
            }

            Interlocked.Decrement(ref _inFlight);
            return Ok(payload);
        });
    }

    private static string MapOver(string mapFields, string processor = """{"StartAt":"Echo","States":{"Echo":{"Type":"Pass","End":true}}}""") =>
        """{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":""" + processor + "," + mapFields + ""","End":true}}}""";

    [Fact]
    public async Task Map_runs_the_item_processor_per_item_and_keeps_the_order()
    {
        JsonEqual("[1,2,3]", await Output(MapOver("\"ItemsPath\":\"$.items\""), """{"items":[1,2,3]}"""));
    }

    [Fact]
    public async Task ItemSelector_shapes_each_item_with_the_Map_context()
    {
        var output = await Output(MapOver("""
            "ItemsPath":"$.items","ItemSelector":{"index.$":"$$.Map.Item.Index","value.$":"$$.Map.Item.Value","shared.$":"$.shared"}
            """), """{"items":["a","b"],"shared":7}""");
        JsonEqual("""[{"index":0,"value":"a","shared":7},{"index":1,"value":"b","shared":7}]""", output);
    }

    [Fact]
    public async Task The_legacy_Iterator_and_Parameters_work_like_ItemProcessor_and_ItemSelector()
    {
        var definition = """
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","Parameters":{"v.$":"$$.Map.Item.Value"},
              "Iterator":{"StartAt":"Echo","States":{"Echo":{"Type":"Pass","End":true}}},"End":true}}}
            """;
        JsonEqual("""[{"v":1},{"v":2}]""", await Output(definition, """{"items":[1,2]}"""));
    }

    [Fact]
    public async Task Map_ResultSelector_and_ResultPath_shape_the_results()
    {
        var output = await Output(MapOver("""
            "ItemsPath":"$.items","ResultSelector":{"all.$":"$"},"ResultPath":"$.results"
            """), """{"items":[1,2]}""");
        JsonEqual("""{"items":[1,2],"results":{"all":[1,2]}}""", output);
    }

    [Fact]
    public async Task ItemsPath_that_is_not_an_array_is_a_States_Runtime_error()
    {
        var execution = await Failed(MapOver("\"ItemsPath\":\"$.items\""), """{"items":{"a":1}}""");
        Assert.Equal(StatesErrors.Runtime, execution.Error);
    }

    [Fact]
    public async Task Map_concurrency_never_exceeds_MaxConcurrency()
    {
        var probe = new ConcurrencyProbe();
        var processor = """{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}}}""";
        var items = string.Join(',', Enumerable.Range(0, 50));
        await Output(MapOver("\"MaxConcurrency\":3", processor), $"[{items}]", probe.Invoker());
        Assert.InRange(probe.Max, 1, 3);
    }

    [Fact]
    public async Task MaxConcurrencyPath_reads_the_limit_from_the_input()
    {
        var probe = new ConcurrencyProbe();
        var processor = """{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}}}""";
        var items = string.Join(',', Enumerable.Range(0, 30));
        await Output(MapOver("\"ItemsPath\":\"$.items\",\"MaxConcurrencyPath\":\"$.limit\"", processor), $$"""{"limit":2,"items":[{{items}}]}""", probe.Invoker());
        Assert.InRange(probe.Max, 1, 2);
    }

    [Fact]
    public async Task An_inline_Map_runs_at_most_40_iterations_at_once_even_when_unbounded()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = 0;
        var max = 0;
        var invoker = Functions().Add("f", async (_, ct) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            lock (gate)
            {
                max = Math.Max(max, now);
                if (now == 40)
                {
                    gate.TrySetResult();
                }
            }

            // Hold every call until 40 are in flight, so the test sees the cap itself, not scheduling luck.
            await gate.Task.WaitAsync(ct);
            Interlocked.Decrement(ref inFlight);
            return Ok("{}");
        });
        var processor = """{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}}}""";
        var items = string.Join(',', Enumerable.Range(0, 100));
        await Output(MapOver("\"MaxConcurrency\":0", processor), $"[{items}]", invoker);
        Assert.Equal(40, max);
    }

    [Fact]
    public async Task A_failing_iteration_fails_the_Map_with_its_error()
    {
        var processor = """
            {"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":3,"Next":"Poison"}],"Default":"Ok"},
              "Poison":{"Type":"Fail","Error":"Item.Poison","Cause":"three"},"Ok":{"Type":"Pass","End":true}}}
            """;
        var execution = await Failed(MapOver("\"MaxConcurrency\":1", processor), "[1,2,3,4,5]");
        Assert.Equal("Item.Poison", execution.Error);
        Assert.Contains(execution.History, e => e.Type == "MapIterationFailed");
        Assert.Contains(execution.History, e => e.Type == "MapStateFailed");
    }

    [Fact]
    public async Task Map_records_iteration_events()
    {
        var execution = await Run(MapOver("\"MaxConcurrency\":1"), "[1,2]");
        var types = execution.History.Select(e => e.Type).ToList();
        Assert.Equal(["ExecutionStarted", "MapStateEntered", "MapStateStarted",
            "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
            "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
            "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"], types);
        Assert.Equal("Echo", execution.History[4].Details!["name"]!.GetValue<string>());
        Assert.Equal(execution.History[3].Id, execution.History[4].PreviousEventId);
    }

    [Fact]
    public async Task Parallel_runs_every_branch_on_the_same_input_and_collects_results_in_branch_order()
    {
        var definition = """
            {"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
              {"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a.$":"$.x"},"End":true}}},
              {"StartAt":"B","States":{"B":{"Type":"Wait","Seconds":5,"Next":"B2"},"B2":{"Type":"Pass","Parameters":{"b.$":"$.x"},"End":true}}}],
              "ResultPath":"$.results","End":true}}}
            """;
        JsonEqual("""{"x":1,"results":[{"a":1},{"b":1}]}""", await Output(definition, """{"x":1}"""));
    }

    [Fact]
    public async Task Parallel_Parameters_and_ResultSelector_shape_input_and_output()
    {
        var definition = """
            {"StartAt":"P","States":{"P":{"Type":"Parallel","Parameters":{"v.$":"$.x"},"ResultSelector":{"first.$":"$[0].v"},
              "Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}],"End":true}}}
            """;
        JsonEqual("""{"first":9}""", await Output(definition, """{"x":9}"""));
    }

    [Fact]
    public async Task A_failed_Parallel_state_can_be_retried()
    {
        var calls = 0;
        var invoker = Functions().Add("f", (_, _) => Task.FromResult(Interlocked.Increment(ref calls) == 1 ? LambdaInvocationResult.Failure("Flaky", "once") : Ok("1")));
        var definition = """
            {"StartAt":"P","States":{"P":{"Type":"Parallel","Retry":[{"ErrorEquals":["Flaky"]}],
              "Branches":[{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}}}],"End":true}}}
            """;
        JsonEqual("[1]", await Output(definition, "{}", invoker));
        Assert.Equal(2, calls);
    }
}
