using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>Retry and Catch, the predefined errors' matching rules, and retry timing on a virtual clock.</summary>
public sealed class ErrorHandlingTests
{
    private const string Arn = "arn:aws:lambda:us-east-1:000000000000:function:f";

    /// <summary>A function that fails with <paramref name="errors"/> in turn, then succeeds; it records each call's virtual time.</summary>
    private static (DelegateLambdaInvoker Invoker, List<DateTimeOffset> Calls) Flaky(VirtualClock clock, params string[] errors)
    {
        var calls = new List<DateTimeOffset>();
        var invoker = Functions().Add("f", (_, _) =>
        {
            lock (calls)
            {
                calls.Add(clock.GetUtcNow());
                var n = calls.Count - 1;
                return System.Threading.Tasks.Task.FromResult(n < errors.Length
                    ? LambdaInvocationResult.Failure(errors[n], $"attempt {n} failed")
                    : LambdaInvocationResult.Success("""{"ok":true}"""));
            }
        });
        return (invoker, calls);
    }

    // Keeps "Handled" reachable in tests that do not catch, so the definition validates.
    private const string UnusedCatch = """[{"ErrorEquals":["Test.NeverRaised"],"Next":"Handled"}]""";

    private static string Task(string retry = "[]", string @catch = "[]", string extra = "") =>
        """{"StartAt":"T","States":{"T":{"Type":"Task","Resource":""" + "\"" + Arn + "\",\"Retry\":" + retry + ",\"Catch\":" + (@catch == "[]" ? UnusedCatch : @catch) + extra
        + ""","End":true},"Handled":{"Type":"Pass","End":true}}}""";

    [Fact]
    public async Task Retry_waits_IntervalSeconds_times_BackoffRate_to_the_power_of_the_attempt()
    {
        var clock = new VirtualClock(Start);
        var (invoker, calls) = Flaky(clock, "E", "E", "E");
        await Output(Task("""[{"ErrorEquals":["E"],"IntervalSeconds":3,"MaxAttempts":3,"BackoffRate":2}]"""), invoker: invoker, clock: clock);
        Assert.Equal([0d, 3d, 9d, 21d], calls.Select(c => (c - Start).TotalSeconds));
    }

    [Fact]
    public async Task MaxDelaySeconds_caps_the_backoff()
    {
        var clock = new VirtualClock(Start);
        var (invoker, calls) = Flaky(clock, "E", "E", "E");
        await Output(Task("""[{"ErrorEquals":["E"],"IntervalSeconds":4,"MaxAttempts":3,"BackoffRate":3,"MaxDelaySeconds":10}]"""), invoker: invoker, clock: clock);
        Assert.Equal([0d, 4d, 14d, 24d], calls.Select(c => (c - Start).TotalSeconds));
    }

    [Fact]
    public async Task Full_jitter_waits_a_random_time_up_to_the_backoff_and_repeats_with_the_same_seed()
    {
        async Task<double[]> Gaps()
        {
            var clock = new VirtualClock(Start);
            var (invoker, calls) = Flaky(clock, "E", "E", "E");
            await Output(Task("""[{"ErrorEquals":["E"],"IntervalSeconds":10,"MaxAttempts":3,"BackoffRate":2,"JitterStrategy":"FULL"}]"""), invoker: invoker, clock: clock);
            return [.. calls.Zip(calls.Skip(1), (a, b) => (b - a).TotalSeconds)];
        }

        var gaps = await Gaps();
        Assert.InRange(gaps[0], 0, 10);
        Assert.InRange(gaps[1], 0, 20);
        Assert.InRange(gaps[2], 0, 40);
        Assert.NotEqual([10d, 20d, 40d], gaps);
        Assert.Equal(gaps, await Gaps());
    }

    [Fact]
    public async Task MaxAttempts_zero_never_retries()
    {
        var clock = new VirtualClock(Start);
        var (invoker, calls) = Flaky(clock, "E");
        var execution = await Failed(Task("""[{"ErrorEquals":["E"],"MaxAttempts":0}]"""), invoker: invoker, clock: clock);
        Assert.Single(calls);
        Assert.Equal("E", execution.Error);
        Assert.Equal("attempt 0 failed", execution.Cause);
    }

    [Fact]
    public async Task Retry_uses_the_first_matching_retrier_only()
    {
        var clock = new VirtualClock(Start);
        var (invoker, calls) = Flaky(clock, "E", "E", "E");
        await Failed(Task("""[{"ErrorEquals":["E"],"MaxAttempts":1},{"ErrorEquals":["States.ALL"],"MaxAttempts":5}]"""), invoker: invoker, clock: clock);
        Assert.Equal(2, calls.Count);
    }

    [Fact]
    public async Task RetryCount_in_the_context_object_counts_the_retries_of_the_state()
    {
        var seen = new List<int>();
        var invoker = Functions().Add("f", (payload, _) =>
        {
            var count = JsonNode.Parse(payload)!["retry"]!.GetValue<int>();
            seen.Add(count);
            return System.Threading.Tasks.Task.FromResult(count < 2 ? LambdaInvocationResult.Failure("E", "again") : Ok("{}"));
        });
        await Output(Task("""[{"ErrorEquals":["E"],"IntervalSeconds":1}]""", extra: ""","Parameters":{"retry.$":"$$.State.RetryCount"}"""), invoker: invoker);
        Assert.Equal([0, 1, 2], seen);
    }

    [Fact]
    public async Task Catch_puts_Error_and_Cause_at_its_ResultPath_and_goes_to_Next()
    {
        var (invoker, _) = Flaky(new VirtualClock(Start), "Boom");
        var execution = await Run(Task(@catch: """[{"ErrorEquals":["Boom"],"ResultPath":"$.error","Next":"Handled"}]"""), """{"kept":1}""", invoker);
        JsonEqual("""{"kept":1,"error":{"Error":"Boom","Cause":"attempt 0 failed"}}""", System.Text.Json.Nodes.JsonNode.Parse(execution.OutputJson!));
        Assert.Equal(["TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed", "TaskStateExited", "PassStateEntered"],
            execution.History.Skip(1).Take(6).Select(e => e.Type));
    }

    [Fact]
    public async Task Catch_runs_after_retries_are_exhausted()
    {
        var clock = new VirtualClock(Start);
        var (invoker, calls) = Flaky(clock, "E", "E", "E", "E");
        await Output(Task("""[{"ErrorEquals":["E"],"MaxAttempts":2}]""", """[{"ErrorEquals":["E"],"Next":"Handled"}]"""), invoker: invoker, clock: clock);
        Assert.Equal(3, calls.Count);
    }

    [Fact]
    public async Task States_ALL_catches_a_function_error()
    {
        var (invoker, _) = Flaky(new VirtualClock(Start), "Anything.AtAll");
        await Output(Task(@catch: """[{"ErrorEquals":["States.ALL"],"Next":"Handled"}]"""), invoker: invoker);
    }

    [Fact]
    public async Task States_ALL_does_not_catch_States_Runtime()
    {
        var definition = """
            {"StartAt":"T","States":{
              "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","OutputPath":"$.missing",
                   "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Handled"}],"End":true},
              "Handled":{"Type":"Pass","End":true}}}
            """;
        var execution = await Failed(definition, invoker: Functions().Add("f", _ => "{}"));
        Assert.Equal(StatesErrors.Runtime, execution.Error);
    }

    [Fact]
    public async Task States_ALL_does_not_catch_States_DataLimitExceeded()
    {
        var big = new string('x', 300 * 1024);
        var invoker = Functions().Add("f", _ => $$"""{"blob":"{{big}}"}""");
        var execution = await Failed(Task(@catch: """[{"ErrorEquals":["States.ALL"],"Next":"Handled"}]"""), invoker: invoker);
        Assert.Equal(StatesErrors.DataLimitExceeded, execution.Error);
    }

    [Fact]
    public async Task States_DataLimitExceeded_can_still_be_caught_by_name()
    {
        var big = new string('x', 300 * 1024);
        var invoker = Functions().Add("f", _ => $$"""{"blob":"{{big}}"}""");
        await Output(Task(@catch: """[{"ErrorEquals":["States.DataLimitExceeded"],"Next":"Handled"}]"""), invoker: invoker);
    }

    [Fact]
    public async Task States_TaskFailed_matches_a_function_error()
    {
        var (invoker, _) = Flaky(new VirtualClock(Start), "Custom.Error");
        await Output(Task(@catch: """[{"ErrorEquals":["States.TaskFailed"],"Next":"Handled"}]"""), invoker: invoker);
    }

    [Fact]
    public async Task States_TaskFailed_does_not_match_States_Timeout()
    {
        var clock = new VirtualClock(Start);
        var invoker = Functions().Add("f", async (_, ct) =>
        {
            await clock.SleepAsync(TimeSpan.FromSeconds(30), ct);
            return Ok("{}");
        });
        var execution = await Failed(Task(@catch: """[{"ErrorEquals":["States.TaskFailed"],"Next":"Handled"}]""", extra: ""","TimeoutSeconds":5"""), invoker: invoker, clock: clock);
        Assert.Equal(StatesErrors.Timeout, execution.Error);
    }

    [Fact]
    public async Task TimeoutSeconds_fails_a_slow_task_with_States_Timeout_which_Catch_can_match_by_name()
    {
        var clock = new VirtualClock(Start);
        var invoker = Functions().Add("f", async (_, ct) =>
        {
            await clock.SleepAsync(TimeSpan.FromSeconds(30), ct);
            return Ok("{}");
        });
        var output = await Output(Task(@catch: """[{"ErrorEquals":["States.Timeout"],"ResultPath":"$.e","Next":"Handled"}]""", extra: ""","TimeoutSeconds":5"""), invoker: invoker, clock: clock);
        Assert.Equal("States.Timeout", output!["e"]!["Error"]!.GetValue<string>());
    }

    [Fact]
    public async Task TimeoutSecondsPath_reads_the_timeout_from_the_input()
    {
        var clock = new VirtualClock(Start);
        var invoker = Functions().Add("f", async (_, ct) =>
        {
            await clock.SleepAsync(TimeSpan.FromSeconds(30), ct);
            return Ok("{}");
        });
        var execution = await Failed(Task(extra: ",\"TimeoutSecondsPath\":\"$.timeout\""), """{"timeout":10}""", invoker, clock);
        Assert.Equal(StatesErrors.Timeout, execution.Error);
        var fast = await Output(Task(extra: ",\"TimeoutSecondsPath\":\"$.timeout\""), """{"timeout":60}""", invoker, new VirtualClock(Start));
        JsonEqual("{}", fast);
    }

    [Fact]
    public async Task A_crashing_function_surfaces_as_Lambda_Unknown()
    {
        var invoker = Functions().Add("f", (_, _) => throw new InvalidOperationException("segfault, sort of"));
        var execution = await Failed(Task(), invoker: invoker);
        Assert.Equal("Lambda.Unknown", execution.Error);
        Assert.Contains("segfault", execution.Cause);
    }

    [Fact]
    public async Task A_Fail_state_inside_Parallel_is_caught_by_the_Parallel_state()
    {
        var definition = """
            {"StartAt":"P","States":{
              "P":{"Type":"Parallel","Branches":[{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Branch.Broke","Cause":"why"}}}],
                   "Catch":[{"ErrorEquals":["Branch.Broke"],"ResultPath":"$.e","Next":"Handled"}],"End":true},
              "Handled":{"Type":"Pass","End":true}}}
            """;
        JsonEqual("""{"e":{"Error":"Branch.Broke","Cause":"why"}}""", await Output(definition));
    }
}
