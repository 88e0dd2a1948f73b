using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>Step Functions Local's MockConfigFile format, run unchanged.</summary>
public sealed class MockConfigTests
{
    // The example from the Step Functions Local documentation.
    private const string DocumentationExample = """
        {"StateMachines":{"LambdaSQSIntegration":{"TestCases":{
            "HappyPath":{"LambdaState":"MockedLambdaSuccess","SQSState":"MockedSQSSuccess"},
            "RetryPath":{"LambdaState":"MockedLambdaRetry","SQSState":"MockedSQSSuccess"},
            "HybridPath":{"LambdaState":"MockedLambdaSuccess"}}}},
         "MockedResponses":{
            "MockedLambdaSuccess":{"0":{"Return":{"StatusCode":200,"Payload":{"StatusCode":200,"body":"Hello from Lambda!"}}}},
            "LambdaMockedResourceNotReady":{"0":{"Throw":{"Error":"Lambda.ResourceNotReadyException","Cause":"Lambda resource is not ready."}}},
            "MockedSQSSuccess":{"0":{"Return":{"MD5OfMessageBody":"3bcb6e8e-7h85-4375-b0bc-1a59812c6e51","MessageId":"3bcb6e8e-8b51-4375-b0bc-1a59812c6e51"}}},
            "MockedLambdaRetry":{
              "0":{"Throw":{"Error":"Lambda.ResourceNotReadyException","Cause":"Lambda resource is not ready."}},
              "1-2":{"Throw":{"Error":"Lambda.TimeoutException","Cause":"Lambda timed out."}},
              "3":{"Return":{"StatusCode":200,"Payload":{"StatusCode":200,"body":"Hello from Lambda!"}}}}}}
        """;

    private const string Machine = """
        {"StartAt":"LambdaState","States":{
          "LambdaState":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"Payload.$":"$","FunctionName":"HelloWorldFunction"},
            "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":2,"MaxAttempts":3}],"Next":"SQSState"},
          "SQSState":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/myQueue","MessageBody.$":"$"},"End":true}}}
        """;

    private static async Task<Execution> RunCase(string testCase, ILambdaInvoker? invoker = null)
    {
        var engine = Engine(invoker);
        var machine = engine.CreateStateMachine("LambdaSQSIntegration", Machine);
        return await engine.RunAsync(machine, "{}", mocks: MockConfig.Parse(DocumentationExample).TestCase("LambdaSQSIntegration", testCase));
    }

    [Fact]
    public async Task A_mocked_Return_is_the_task_result_and_no_function_runs()
    {
        var execution = await RunCase("HappyPath");
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        Assert.Contains("3bcb6e8e-8b51-4375-b0bc-1a59812c6e51", execution.OutputJson);
    }

    [Fact]
    public async Task Attempt_keys_and_ranges_follow_the_retries_of_the_state()
    {
        var execution = await RunCase("RetryPath");
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        var failures = execution.History.Where(e => e.Type == "TaskFailed").Select(e => e.Details!["error"]!.GetValue<string>()).ToList();
        Assert.Equal(["Lambda.ResourceNotReadyException", "Lambda.TimeoutException", "Lambda.TimeoutException"], failures);
    }

    [Fact]
    public async Task States_without_a_mock_in_the_test_case_run_for_real()
    {
        var execution = await RunCase("HybridPath");
        Assert.Equal(ExecutionStatus.Failed, execution.Status);
        Assert.Equal(StatesErrors.Runtime, execution.Error);
        Assert.Contains("mock", execution.Cause);
    }

    [Fact]
    public void An_unknown_test_case_is_reported_by_name()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => MockConfig.Parse(DocumentationExample).TestCase("LambdaSQSIntegration", "Nope"));
        Assert.Contains("Nope", e.Message);
    }

    [Fact]
    public void An_attempt_key_that_is_not_a_number_or_range_is_refused()
    {
        Assert.Throws<FormatException>(() => MockConfig.Parse("""{"StateMachines":{},"MockedResponses":{"R":{"first":{"Return":1}}}}"""));
    }

    [Fact]
    public void Past_the_last_key_the_last_response_repeats()
    {
        var response = MockConfig.Parse(DocumentationExample).TestCase("LambdaSQSIntegration", "RetryPath").States["LambdaState"];
        Assert.NotNull(response.ForInvocation(9).Return);
    }

    [Fact]
    public async Task Responses_are_numbered_by_invocation_across_Map_iterations_as_Step_Functions_Local_numbers_them()
    {
        // The Step Functions Local guide tells Map users to set MaxConcurrency to 1 for exactly this reason: the second
        // call of the mocked state, here the second iteration, gets response "1".
        const string machine = """
            {"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,
              "ItemProcessor":{"StartAt":"Work","States":{
                "Work":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"F","Payload.$":"$"},"End":true}}},
              "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Failed"}],"End":true},
             "Failed":{"Type":"Fail","Error":"IterationFailed"}}}
            """;
        const string mocks = """
            {"StateMachines":{"M":{"TestCases":{"SecondFails":{"Work":"R"}}}},
             "MockedResponses":{"R":{"0":{"Return":{"Payload":"first"}},"1":{"Throw":{"Error":"Boom","Cause":"second call"}},"2":{"Return":{"Payload":"third"}}}}}
            """;
        var engine = Engine();
        var execution = await engine.RunAsync(engine.CreateStateMachine("M", machine), """{"items":[1,2,3]}""", mocks: MockConfig.Parse(mocks).TestCase("M", "SecondFails"));

        Assert.Equal(ExecutionStatus.Failed, execution.Status);
        Assert.Equal("IterationFailed", execution.Error);
        var failed = Assert.Single(execution.History, e => e.Type == "TaskFailed");
        Assert.Equal("Boom", failed.Details!["error"]!.GetValue<string>());
    }
}
