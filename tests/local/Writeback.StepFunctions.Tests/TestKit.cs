using System.Text.Json.Nodes;

namespace Writeback.StepFunctions.Tests;

/// <summary>Runs definitions on a virtual clock with seeded randomness, so no test sleeps or flakes.</summary>
internal static class TestKit
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static StepFunctionsEngine Engine(ILambdaInvoker? invoker = null, VirtualClock? clock = null, int payloadLimit = 256 * 1024, int maxHistoryEvents = 25_000) =>
        new(new StepFunctionsEngineOptions
        {
            TimeProvider = clock ?? new VirtualClock(Start),
            LambdaInvoker = invoker,
            RandomSeed = 42,
            PayloadLimitBytes = payloadLimit,
            MaxHistoryEvents = maxHistoryEvents,
        });

    public static async Task<Execution> Run(string definition, string input = "{}", ILambdaInvoker? invoker = null, VirtualClock? clock = null, MockTestCase? mocks = null)
    {
        var engine = Engine(invoker, clock);
        var machine = engine.CreateStateMachine("test", definition);
        return await engine.RunAsync(machine, input, mocks: mocks);
    }

    /// <summary>Runs and returns the output of a SUCCEEDED execution, failing the test with the error otherwise.</summary>
    public static async Task<JsonNode?> Output(string definition, string input = "{}", ILambdaInvoker? invoker = null, VirtualClock? clock = null)
    {
        var execution = await Run(definition, input, invoker, clock);
        Assert.True(execution.Status == ExecutionStatus.Succeeded, $"{execution.StatusName}: {execution.Error}: {execution.Cause}");
        return JsonNode.Parse(execution.OutputJson!);
    }

    public static async Task<Execution> Failed(string definition, string input = "{}", ILambdaInvoker? invoker = null, VirtualClock? clock = null, MockTestCase? mocks = null)
    {
        var execution = await Run(definition, input, invoker, clock, mocks);
        Assert.True(execution.Status == ExecutionStatus.Failed, $"expected FAILED, was {execution.StatusName} with output {execution.OutputJson}");
        return execution;
    }

    /// <summary>A one-state machine: a Pass state named P with the given fields (a JSON object) added.</summary>
    public static string Pass(string fields)
    {
        var state = JsonNode.Parse(fields)!.AsObject();
        state["Type"] = "Pass";
        state["End"] = true;
        return new JsonObject { ["StartAt"] = "P", ["States"] = new JsonObject { ["P"] = state } }.ToJsonString();
    }

    public static string Pass() => """{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}""";

    public static void JsonEqual(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\n  actual {actual?.ToJsonString()}");

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "serverless.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("serverless.sln not found above the test binaries.");
    }

    public static DelegateLambdaInvoker Functions() => new();

    public static LambdaInvocationResult Ok(string json) => LambdaInvocationResult.Success(json);
}
