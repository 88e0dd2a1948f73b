using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using WireMock.Logging;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Writeback.Trigger.Executions;

namespace Writeback.Trigger.Tests.Executions;

/// <summary>StartExecution on the wire (awsJson1.0, SigV4) against WireMock standing in for states.us-east-1.amazonaws.com.</summary>
public sealed partial class StepFunctionsExecutionStarterTests : IDisposable
{
    private const string StateMachineArn = "arn:aws:states:us-east-1:123456789012:stateMachine:writeback";
    private const string Input = """{"manifestUri":"https://storage.googleapis.com/b/m.json","batchId":"b1","dataset":"student_dashboard","traceparent":null}""";

    private readonly WireMockServer _states = WireMockServer.Start();
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _states.Stop();
        _states.Dispose();
        _http.Dispose();
    }

    private StepFunctionsExecutionStarter Starter(AWSCredentials? credentials = null, TimeProvider? time = null) => new(
        _http,
        new StepFunctionsOptions
        {
            StateMachineArn = StateMachineArn,
            Region = "us-east-1",
            Endpoint = new Uri($"{_states.Url}/"),
            Credentials = credentials ?? new BasicAWSCredentials("AKID", "SECRET"),
        },
        time);

    private void Answer(int status, string body) =>
        _states.Given(Request.Create().WithPath("/").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/x-amz-json-1.0").WithBody(body));

    private static string Header(ILogEntry entry, string name) =>
        entry.RequestMessage.Headers!.Single(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value.Single();

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=AKID/(?<date>\d{8})/us-east-1/states/aws4_request, SignedHeaders=(?<signed>[a-z0-9;-]+), Signature=[0-9a-f]{64}$")]
    private static partial Regex Authorization();

    [Fact]
    public async Task StartExecution_is_a_SigV4_signed_awsJson_POST_with_the_execution_in_the_body()
    {
        var startDate = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        Answer(200, $$"""{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:writeback:b1","startDate":{{startDate}}}""");

        var result = await Starter().StartAsync("b1", Input, default);

        Assert.Equal(ExecutionStartOutcome.Started, result.Outcome);
        Assert.Equal("arn:aws:states:us-east-1:123456789012:execution:writeback:b1", result.ExecutionArn);
        var call = Assert.Single(_states.LogEntries);
        Assert.Equal("POST", call.RequestMessage.Method);
        Assert.Equal("AWSStepFunctions.StartExecution", Header(call, "X-Amz-Target"));
        Assert.Equal("application/x-amz-json-1.0", Header(call, "Content-Type"));
        var authorization = Authorization().Match(Header(call, "Authorization"));
        Assert.True(authorization.Success, Header(call, "Authorization"));
        Assert.Matches(@"^\d{8}T\d{6}Z$", Header(call, "X-Amz-Date"));
        Assert.StartsWith(authorization.Groups["date"].Value, Header(call, "X-Amz-Date"), StringComparison.Ordinal);
        var signed = authorization.Groups["signed"].Value.Split(';');
        Assert.Contains("host", signed);
        Assert.Contains("x-amz-date", signed);
        Assert.Contains("x-amz-target", signed);
        Assert.Contains("content-type", signed);

        var body = JsonNode.Parse(call.RequestMessage.Body!)!.AsObject();
        Assert.Equal(StateMachineArn, (string?)body["stateMachineArn"]);
        Assert.Equal("b1", (string?)body["name"]);
        Assert.Equal(Input, (string?)body["input"]);
    }

    [Fact]
    public async Task The_signature_is_a_function_of_the_request_and_the_time()
    {
        Answer(200, """{"executionArn":"arn:x","startDate":1.0}""");
        var time = new FixedTime(new DateTimeOffset(2026, 11, 26, 1, 2, 3, TimeSpan.Zero));

        await Starter(time: time).StartAsync("b1", Input, default);
        await Starter(time: time).StartAsync("b1", Input, default);
        await Starter(time: time).StartAsync("b2", Input, default);

        var signatures = _states.LogEntries.OrderBy(e => e.RequestMessage.DateTime).Select(e => Header(e, "Authorization")).ToList();
        Assert.Equal("20261126T010203Z", Header(_states.LogEntries[0], "X-Amz-Date"));
        Assert.Equal(signatures[0], signatures[1]);
        Assert.NotEqual(signatures[0], signatures[2]);
    }

    [Fact]
    public async Task Session_credentials_send_and_sign_the_security_token()
    {
        Answer(200, """{"executionArn":"arn:x","startDate":1.0}""");

        await Starter(new SessionAWSCredentials("AKID", "SECRET", "SESSION-TOKEN")).StartAsync("b1", Input, default);

        var call = Assert.Single(_states.LogEntries);
        Assert.Equal("SESSION-TOKEN", Header(call, "X-Amz-Security-Token"));
        Assert.Contains("x-amz-security-token", Authorization().Match(Header(call, "Authorization")).Groups["signed"].Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Lambda_trace_header_is_passed_on_as_traceHeader()
    {
        Answer(200, """{"executionArn":"arn:x","startDate":1.0}""");
        var previous = Environment.GetEnvironmentVariable("_X_AMZN_TRACE_ID");
        Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
        try
        {
            await Starter().StartAsync("b1", Input, default);
        }
        finally
        {
            Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", previous);
        }

        var body = JsonNode.Parse(Assert.Single(_states.LogEntries).RequestMessage.Body!)!.AsObject();
        Assert.Equal("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", (string?)body["traceHeader"]);
    }

    [Fact]
    public async Task A_start_date_well_before_the_request_means_the_execution_was_already_running()
    {
        Answer(200, """{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:writeback:b1","startDate":1764118923.456}""");

        var result = await Starter(time: new FixedTime(new DateTimeOffset(2026, 11, 26, 1, 2, 3, TimeSpan.Zero))).StartAsync("b1", Input, default);

        Assert.Equal(ExecutionStartOutcome.AlreadyRunning, result.Outcome);
    }

    [Fact]
    public async Task ExecutionAlreadyExists_means_already_exists()
    {
        Answer(400, """{"__type":"com.amazonaws.swf.service.model#ExecutionAlreadyExists","message":"Execution Already Exists: 'arn:aws:states:us-east-1:123456789012:execution:writeback:b1'"}""");

        var result = await Starter().StartAsync("b1", Input, default);

        Assert.Equal(ExecutionStartOutcome.AlreadyExists, result.Outcome);
    }

    [Fact]
    public async Task A_500_is_a_retryable_fault()
    {
        Answer(500, """{"__type":"InternalFailure","message":"Internal service error"}""");

        var error = await Assert.ThrowsAsync<ExecutionStartException>(() => Starter().StartAsync("b1", Input, default));

        Assert.True(error.Transient);
        Assert.Contains("500", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Throttling_is_a_retryable_fault()
    {
        Answer(400, """{"__type":"ThrottlingException","message":"Rate exceeded"}""");

        var error = await Assert.ThrowsAsync<ExecutionStartException>(() => Starter().StartAsync("b1", Input, default));

        Assert.True(error.Transient);
    }

    [Fact]
    public async Task A_missing_state_machine_is_a_configuration_fault()
    {
        Answer(400, """{"__type":"StateMachineDoesNotExist","message":"State Machine Does Not Exist"}""");

        var error = await Assert.ThrowsAsync<ExecutionStartException>(() => Starter().StartAsync("b1", Input, default));

        Assert.False(error.Transient);
        Assert.Contains("StateMachineDoesNotExist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_a_retryable_fault()
    {
        var url = _states.Url!;
        _states.Stop();

        var starter = new StepFunctionsExecutionStarter(_http, new StepFunctionsOptions
        {
            StateMachineArn = StateMachineArn,
            Region = "us-east-1",
            Endpoint = new Uri($"{url}/"),
            Credentials = new BasicAWSCredentials("AKID", "SECRET"),
        });

        var error = await Assert.ThrowsAsync<ExecutionStartException>(() => starter.StartAsync("b1", Input, default));
        Assert.True(error.Transient);
    }

    private const string ExecutionPrefix = "arn:aws:states:us-east-1:123456789012:execution:writeback:";

    /// <summary>DescribeExecution of one execution ARN answers <paramref name="status"/>; with a null status, ExecutionDoesNotExist.</summary>
    private void Describes(string executionName, string? status)
    {
        var arn = ExecutionPrefix + executionName;
        var response = status is null
            ? Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/x-amz-json-1.0")
                .WithBody($$"""{"__type":"com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist","message":"Execution Does Not Exist: '{{arn}}'"}""")
            : Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/x-amz-json-1.0")
                .WithBody($$"""
                    {"executionArn":"{{arn}}","stateMachineArn":"{{StateMachineArn}}","name":"{{executionName}}","status":"{{status}}",
                     "startDate":1764118923.456,"stopDate":1764119023.456,"input":"{}","inputDetails":{"included":true},
                     "error":"States.TaskFailed","cause":"boom","redriveCount":0,"redriveStatus":"REDRIVABLE"}
                    """);
        _states.Given(Request.Create().WithPath("/").UsingPost()
                .WithHeader("X-Amz-Target", "AWSStepFunctions.DescribeExecution")
                .WithBody(new JsonPartialMatcher(new { executionArn = arn })))
            .RespondWith(response);
    }

    [Fact]
    public async Task DescribeExecution_is_a_signed_awsJson_POST_naming_the_execution_ARN_and_reads_its_status()
    {
        Describes("b1", "TIMED_OUT");

        var state = await Starter().DescribeAsync("b1", default);

        Assert.Equal(ExecutionState.TimedOut, state);
        var call = Assert.Single(_states.LogEntries);
        Assert.Equal("AWSStepFunctions.DescribeExecution", Header(call, "X-Amz-Target"));
        Assert.Equal("application/x-amz-json-1.0", Header(call, "Content-Type"));
        Assert.True(Authorization().IsMatch(Header(call, "Authorization")), Header(call, "Authorization"));
        var body = JsonNode.Parse(call.RequestMessage.Body!)!.AsObject();
        Assert.Equal(ExecutionPrefix + "b1", (string?)Assert.Single(body).Value);
    }

    [Fact]
    public async Task ExecutionDoesNotExist_means_no_execution_has_that_name()
    {
        Describes("b1", null);

        Assert.Null(await Starter().DescribeAsync("b1", default));
    }

    [Theory]
    [InlineData("RUNNING", ExecutionState.Running)]
    [InlineData("SUCCEEDED", ExecutionState.Succeeded)]
    [InlineData("FAILED", ExecutionState.Failed)]
    [InlineData("ABORTED", ExecutionState.Aborted)]
    [InlineData("PENDING_REDRIVE", ExecutionState.PendingRedrive)]
    public async Task Every_documented_execution_status_is_read(string status, ExecutionState expected)
    {
        Describes("b1", status);

        Assert.Equal(expected, await Starter().DescribeAsync("b1", default));
    }

    [Fact]
    public async Task A_describe_that_is_throttled_is_a_retryable_fault()
    {
        Answer(400, """{"__type":"ThrottlingException","message":"Rate exceeded"}""");

        var error = await Assert.ThrowsAsync<ExecutionStartException>(() => Starter().DescribeAsync("b1", default));

        Assert.True(error.Transient);
        Assert.Contains("DescribeExecution", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Over_the_wire_a_failed_first_attempt_makes_the_next_delivery_start_attempt_two()
    {
        var second = ExecutionName.ForAttempt("b1", 2);
        Describes("b1", "FAILED");
        Describes(second, null);
        _states.Given(Request.Create().WithPath("/").UsingPost().WithHeader("X-Amz-Target", "AWSStepFunctions.StartExecution"))
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/x-amz-json-1.0")
                .WithBody($$"""{"executionArn":"{{ExecutionPrefix + second}}","startDate":{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0}}}"""));

        var result = await new ExecutionAttempts(Starter()).StartAsync("b1", Input, default);

        Assert.Equal(AttemptOutcome.Retried, result.Outcome);
        Assert.Equal(ExecutionState.Failed, result.PreviousState);
        Assert.Equal(ExecutionPrefix + second, result.ExecutionArn);
        var start = Assert.Single(_states.LogEntries, e => Header(e, "X-Amz-Target") == "AWSStepFunctions.StartExecution");
        var body = JsonNode.Parse(start.RequestMessage.Body!)!.AsObject();
        Assert.Equal(second, (string?)body["name"]);
        Assert.Equal(Input, (string?)body["input"]);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
