using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>Lambda Tasks: lambda:invoke with its envelope, plain function ARNs, binding by name, and error mapping.</summary>
public sealed class LambdaTaskTests
{
    private static string Invoke(string functionName, string payloadField = "\"Payload.$\":\"$\"") =>
        """{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":""" + "\"" + functionName + "\"," + payloadField + """},"End":true}}}""";

    [Fact]
    public async Task Lambda_invoke_returns_the_Invoke_API_envelope_with_the_function_output_in_Payload()
    {
        var output = await Output(Invoke("f"), """{"x":1}""", Functions().Add("f", p => $$"""{"echo":{{p}}}"""));
        Assert.Equal(200, output!["StatusCode"]!.GetValue<int>());
        Assert.Equal("$LATEST", output["ExecutedVersion"]!.GetValue<string>());
        JsonEqual("""{"echo":{"x":1}}""", output["Payload"]);
        Assert.Equal(200, output["SdkHttpMetadata"]!["HttpStatusCode"]!.GetValue<int>());
        Assert.NotNull(output["SdkResponseMetadata"]!["RequestId"]);
    }

    [Fact]
    public async Task Lambda_invoke_sends_the_Payload_object_with_its_paths_resolved()
    {
        string? received = null;
        var invoker = Functions().Add("f", p => { received = p; return "null"; });
        await Output(Invoke("f", """ "Payload":{"id.$":"$.id","kind":"k"} """), """{"id":7}""", invoker);
        JsonEqual("""{"id":7,"kind":"k"}""", JsonNode.Parse(received!));
    }

    [Theory]
    [InlineData("writeback-prepare")]
    [InlineData("arn:aws:lambda:us-east-1:000000000000:function:writeback-prepare")]
    [InlineData("arn:aws:lambda:us-east-1:000000000000:function:writeback-prepare:live")]
    [InlineData("000000000000:function:writeback-prepare")]
    public async Task FunctionName_binds_by_the_function_name_in_any_of_its_forms(string functionName)
    {
        var output = await Output(Invoke(functionName), "{}", Functions().Add("writeback-prepare", _ => "\"bound\""));
        Assert.Equal("bound", output!["Payload"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_plain_function_ARN_returns_the_function_output_itself()
    {
        var definition = """{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}}}""";
        JsonEqual("""{"out":{"in":1}}""", await Output(definition, """{"in":1}""", Functions().Add("f", p => $$"""{"out":{{p}}}""")));
    }

    [Fact]
    public async Task A_handled_function_error_becomes_the_error_name_and_its_message_the_cause()
    {
        var invoker = Functions().Add("f", (_, _) => Task.FromResult(LambdaInvocationResult.Failure("Writeback.Conflict", "a newer batch was applied")));
        var execution = await Failed(Invoke("f"), invoker: invoker);
        Assert.Equal(("Writeback.Conflict", "a newer batch was applied"), (execution.Error, execution.Cause));
    }

    [Fact]
    public async Task An_unknown_function_fails_with_ResourceNotFound()
    {
        var execution = await Failed(Invoke("missing"), invoker: Functions());
        Assert.Equal("Lambda.ResourceNotFoundException", execution.Error);
    }

    [Fact]
    public async Task The_call_crosses_a_JSON_boundary_so_handlers_never_share_objects_with_the_engine()
    {
        var payloads = new List<string>();
        var invoker = Functions().Add("f", p => { payloads.Add(p); return p; });
        var definition = """
            {"StartAt":"A","States":{
              "A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","ResultPath":"$.a","Next":"B"},
              "B":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","ResultPath":"$.b","End":true}}}
            """;
        var output = await Output(definition, """{"v":1}""", invoker);
        Assert.Equal(["""{"v":1}""", """{"v":1,"a":{"v":1}}"""], payloads);
        JsonEqual("""{"v":1,"a":{"v":1},"b":{"v":1,"a":{"v":1}}}""", output);
    }

    [Fact]
    public async Task A_service_integration_that_is_not_mocked_fails_with_States_Runtime()
    {
        var definition = """{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl":"q","MessageBody":"m"},"End":true}}}""";
        var execution = await Failed(definition);
        Assert.Equal(StatesErrors.Runtime, execution.Error);
    }

    [Fact]
    public async Task HeartbeatSeconds_is_recorded_but_a_request_response_Lambda_call_needs_no_heartbeats()
    {
        var clock = new VirtualClock(Start);
        var invoker = Functions().Add("f", async (_, ct) =>
        {
            await clock.SleepAsync(TimeSpan.FromSeconds(20), ct);
            return Ok("{}");
        });
        var definition = Invoke("f").Replace("\"End\":true", "\"TimeoutSeconds\":60,\"HeartbeatSeconds\":10,\"End\":true", StringComparison.Ordinal);
        var execution = await Run(definition, "{}", invoker, clock);
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        var scheduled = execution.History.Single(e => e.Type == "TaskScheduled");
        Assert.Equal(10, scheduled.Details!["heartbeatInSeconds"]!.GetValue<int>());
        Assert.Equal(60, scheduled.Details!["timeoutInSeconds"]!.GetValue<int>());
    }
}
