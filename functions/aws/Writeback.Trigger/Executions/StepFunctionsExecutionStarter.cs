using System.Net;
using System.Text.Json;
using Amazon.Runtime;
using Writeback.Aws;
using Writeback.Trigger.Http;

namespace Writeback.Trigger.Executions;

public sealed record StepFunctionsOptions
{
    public required string StateMachineArn { get; init; }

    /// <summary>The region to sign for, e.g. <c>us-east-1</c>.</summary>
    public required string Region { get; init; }

    /// <summary>Defaults to <c>https://states.{region}.amazonaws.com/</c>; set for tests or VPC endpoints.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>Defaults to the SDK's credential chain (in Lambda: the function role from the environment).</summary>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>The AWS SDKs' service-specific endpoint override for Step Functions (service id "SFN").</summary>
    public const string ServiceEndpointVariable = "AWS_ENDPOINT_URL_SFN";

    /// <summary>
    /// Options from an environment the way the AWS SDKs read it: the endpoint from <see cref="ServiceEndpointVariable"/>
    /// or AWS_ENDPOINT_URL (the regional endpoint when neither is set), keys from
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN when both keys are there, else the SDK's chain.
    /// The cloud trigger and the one in <c>writeback serve</c> are built by this one method; only the values differ.
    /// </summary>
    public static StepFunctionsOptions FromEnvironment(Func<string, string?> get, string stateMachineArn, string region) => new()
    {
        StateMachineArn = stateMachineArn,
        Region = region,
        Endpoint = AwsEnvironment.Endpoint(get, ServiceEndpointVariable, "Step Functions"),
        Credentials = AwsEnvironment.Credentials(get),
    };
}

/// <summary>
/// StartExecution and DescribeExecution over the awsJson1.0 protocol, through <see cref="AwsServiceClient"/>
/// (AWSSDK.StepFunctions is not available here, and each call is one POST).
/// </summary>
public sealed class StepFunctionsExecutionStarter : IExecutionStarter
{
    private const string StartTarget = "AWSStepFunctions.StartExecution";
    private const string DescribeTarget = "AWSStepFunctions.DescribeExecution";

    /// <summary>StartExecution answers an existing running execution with its original startDate; a start older than
    /// this before our request means the execution was already running.</summary>
    private static readonly TimeSpan RecentStart = TimeSpan.FromSeconds(5);

    private readonly AwsServiceClient _states;
    private readonly StepFunctionsOptions _options;
    private readonly TimeProvider _time;

    public StepFunctionsExecutionStarter(HttpClient http, StepFunctionsOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
        _states = new AwsServiceClient(
            http,
            new AwsServiceOptions { Service = "states", Region = options.Region, Endpoint = options.Endpoint, Credentials = options.Credentials },
            _time);
    }

    public async Task<ExecutionStartResult> StartAsync(string name, string inputJson, CancellationToken cancellationToken)
    {
        var traceHeader = Environment.GetEnvironmentVariable("_X_AMZN_TRACE_ID");
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new StartExecutionRequest(_options.StateMachineArn, name, inputJson, traceHeader is { Length: > 0 and <= 256 } ? traceHeader : null),
            StepFunctionsJson.Default.StartExecutionRequest);
        var sentAt = _time.GetUtcNow();
        var response = await SendAsync("StartExecution", AwsRequest.Json10(StartTarget, body), sentAt, cancellationToken);
        if (response.Status == HttpStatusCode.OK)
        {
            var started = Parse(response.Text, StepFunctionsJson.Default.StartExecutionResponse);
            var startDate = started?.StartDate is { } seconds ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000)) : sentAt;
            var outcome = startDate < sentAt - RecentStart ? ExecutionStartOutcome.AlreadyRunning : ExecutionStartOutcome.Started;
            return new ExecutionStartResult(outcome, started?.ExecutionArn);
        }

        if (response.Error().Type == "ExecutionAlreadyExists")
        {
            return new ExecutionStartResult(ExecutionStartOutcome.AlreadyExists, ExecutionArn(name));
        }

        throw Fault(response);
    }

    public async Task<ExecutionState?> DescribeAsync(string name, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new DescribeExecutionRequest(ExecutionArn(name)), StepFunctionsJson.Default.DescribeExecutionRequest);
        var response = await SendAsync("DescribeExecution", AwsRequest.Json10(DescribeTarget, body), _time.GetUtcNow(), cancellationToken);
        if (response.Status == HttpStatusCode.OK)
        {
            var described = Parse(response.Text, StepFunctionsJson.Default.DescribeExecutionResponse);
            return ExecutionStates.Parse(described?.Status)
                ?? throw new ExecutionStartException($"DescribeExecution answered status '{described?.Status}', which this trigger does not know.", transient: false);
        }

        if (response.Error().Type == "ExecutionDoesNotExist")
        {
            return null;
        }

        throw Fault(response);
    }

    /// <summary>
    /// <c>arn:aws:states:{region}:{account}:stateMachine:{machine}</c> → <c>…:execution:{machine}:{name}</c>, the ARN
    /// StartExecution gives an execution of that name.
    /// </summary>
    public string ExecutionArn(string name)
    {
        const string marker = ":stateMachine:";
        var at = _options.StateMachineArn.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            throw new ExecutionStartException($"'{_options.StateMachineArn}' is not a state machine ARN.", transient: false);
        }

        return $"{_options.StateMachineArn[..at]}:execution:{_options.StateMachineArn[(at + marker.Length)..]}:{name}";
    }

    private async Task<AwsResponse> SendAsync(string operation, AwsRequest request, DateTimeOffset signedAt, CancellationToken cancellationToken)
    {
        try
        {
            return await _states.PostAsync(operation, request, cancellationToken, signedAt);
        }
        catch (AwsCallException e)
        {
            throw new ExecutionStartException(e.Message, e.Transient, e);
        }
    }

    private static ExecutionStartException Fault(AwsResponse response)
    {
        var fault = response.Fault();
        return new ExecutionStartException(fault.Message, fault.Transient);
    }

    private static T? Parse<T>(string text, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try
        {
            return text.Length == 0 ? default : JsonSerializer.Deserialize(text, type);
        }
        catch (JsonException)
        {
            return default;
        }
    }
}
