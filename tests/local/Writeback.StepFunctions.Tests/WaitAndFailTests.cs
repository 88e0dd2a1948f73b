using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>Wait (four ways to say when) and Fail (fixed or path-based error and cause), on virtual time.</summary>
public sealed class WaitAndFailTests
{
    private static async Task<TimeSpan> Waited(string waitFields, string input = "{}")
    {
        var clock = new VirtualClock(Start);
        var definition = """{"StartAt":"W","States":{"W":{"Type":"Wait",""" + waitFields + ""","End":true}}}""";
        var execution = await Run(definition, input, clock: clock);
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        return execution.StopDate!.Value - execution.StartDate;
    }

    [Fact]
    public async Task Wait_Seconds_waits_that_long_in_virtual_time()
    {
        Assert.Equal(TimeSpan.FromHours(2), await Waited("\"Seconds\":7200"));
    }

    [Fact]
    public async Task Wait_Timestamp_waits_until_the_instant()
    {
        Assert.Equal(TimeSpan.FromDays(1), await Waited("\"Timestamp\":\"2026-01-02T00:00:00Z\""));
    }

    [Fact]
    public async Task Wait_SecondsPath_reads_the_seconds_from_the_input()
    {
        Assert.Equal(TimeSpan.FromSeconds(90), await Waited("\"SecondsPath\":\"$.s\"", """{"s":90}"""));
    }

    [Fact]
    public async Task Wait_TimestampPath_reads_the_instant_from_the_input()
    {
        Assert.Equal(TimeSpan.FromMinutes(30), await Waited("\"TimestampPath\":\"$.t\"", """{"t":"2026-01-01T00:30:00Z"}"""));
    }

    [Fact]
    public async Task Wait_Timestamp_in_the_past_does_not_wait()
    {
        Assert.Equal(TimeSpan.Zero, await Waited("\"Timestamp\":\"2020-01-01T00:00:00Z\""));
    }

    [Fact]
    public async Task Wait_SecondsPath_to_a_negative_number_is_a_States_Runtime_error()
    {
        var execution = await Failed("""{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}""", """{"s":-1}""");
        Assert.Equal(StatesErrors.Runtime, execution.Error);
    }

    [Fact]
    public async Task Fail_reports_its_Error_and_Cause()
    {
        var execution = await Failed("""{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"My.Error","Cause":"because"}}}""");
        Assert.Equal(("My.Error", "because"), (execution.Error, execution.Cause));
    }

    [Fact]
    public async Task Fail_ErrorPath_and_CausePath_read_from_the_input()
    {
        var execution = await Failed("""{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e.Error","CausePath":"$.e.Cause"}}}""",
            """{"e":{"Error":"Original.Error","Cause":"the original cause"}}""");
        Assert.Equal(("Original.Error", "the original cause"), (execution.Error, execution.Cause));
    }

    [Fact]
    public async Task Fail_ErrorPath_can_use_an_intrinsic_free_context_path()
    {
        var execution = await Failed("""{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$$.State.Name"}}}""");
        Assert.Equal("F", execution.Error);
    }
}
