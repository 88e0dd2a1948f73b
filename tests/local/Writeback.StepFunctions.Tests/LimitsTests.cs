using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>The service limits the local engine enforces so local runs fail where AWS would (DESIGN.md invariant 6).</summary>
public sealed class LimitsTests
{
    [Fact]
    public async Task A_state_output_over_256_KiB_fails_with_States_DataLimitExceeded()
    {
        var execution = await Failed(Pass("""{"Parameters":{"a.$":"$.s","b.$":"$.s"}}"""), $$"""{"s":"{{new string('x', 140 * 1024)}}"}""");
        Assert.Equal(StatesErrors.DataLimitExceeded, execution.Error);
        Assert.Contains("'P'", execution.Cause);
    }

    [Fact]
    public async Task A_state_output_just_under_256_KiB_is_fine()
    {
        var execution = await Run(Pass(), $$"""{"s":"{{new string('x', 256 * 1024 - 20)}}"}""");
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
    }

    [Fact]
    public void An_execution_input_over_256_KiB_is_refused_at_start()
    {
        var engine = Engine();
        var machine = engine.CreateStateMachine("m", Pass());
        var e = Assert.Throws<StepFunctionsApiException>(() => engine.StartExecution(machine, $$"""{"s":"{{new string('x', 257 * 1024)}}"}"""));
        Assert.Equal("InvalidExecutionInput", e.ErrorCode);
    }

    [Fact]
    public async Task A_Map_result_over_256_KiB_fails_the_Map_state()
    {
        var definition = """
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemSelector":{"pad.$":"$.pad"},
              "ItemsPath":"$.items","ItemProcessor":{"StartAt":"E","States":{"E":{"Type":"Pass","End":true}}},"End":true}}}
            """;
        var input = $$"""{"pad":"{{new string('x', 10 * 1024)}}","items":[{{string.Join(',', Enumerable.Range(0, 30))}}]}""";
        var execution = await Failed(definition, input);
        Assert.Equal(StatesErrors.DataLimitExceeded, execution.Error);
    }

    [Fact]
    public async Task An_execution_fails_once_its_history_would_pass_25000_events()
    {
        var engine = Engine(maxHistoryEvents: 25_000);
        var definition = """{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"E","States":{"E":{"Type":"Pass","End":true}}},"ResultPath":null,"End":true}}}""";
        var items = $"[{string.Join(',', Enumerable.Range(0, 7000))}]";
        var execution = await engine.RunAsync(engine.CreateStateMachine("m", definition), items);
        Assert.Equal(ExecutionStatus.Failed, execution.Status);
        Assert.Equal(StatesErrors.Runtime, execution.Error);
        Assert.Contains("25000", execution.Cause);
    }
}
