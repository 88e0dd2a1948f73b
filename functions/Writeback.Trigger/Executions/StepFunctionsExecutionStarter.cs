using System.Net;
using System.Text;
using System.Text.Json;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Writeback.Trigger.Http;

using Writeback.Lambda.Aws;

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

    /// <summary>The AWS SDKs' endpoint override for every service; the service-specific one wins.</summary>
    public const string GlobalEndpointVariable = "AWS_ENDPOINT_URL";

    /// <summary>"true" makes the SDKs ignore both overrides, and so does this client.</summary>
    public const string IgnoreEndpointsVariable = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";

    /// <summary>
    /// Options from an environment the way the AWS SDKs read it: the endpoint from <see cref="ServiceEndpointVariable"/>
    /// or <see cref="GlobalEndpointVariable"/> (the regional endpoint when neither is set), keys from
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN when both keys are there, else the SDK's chain.
    /// The cloud trigger and the one in <c>writeback serve</c> are built by this one method; only the values differ.
    /// </summary>
    public static StepFunctionsOptions FromEnvironment(Func<string, string?> get, string stateMachineArn, string region)
    {
        ArgumentNullException.ThrowIfNull(get);
        Uri? endpoint = null;
        var url = get(ServiceEndpointVariable) is { Length: > 0 } service ? service : get(GlobalEndpointVariable);
        if (url is { Length: > 0 } && !string.Equals(get(IgnoreEndpointsVariable), "true", StringComparison.OrdinalIgnoreCase))
        {
            endpoint = Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"
                ? parsed
                : throw new InvalidOperationException($"The Step Functions endpoint override '{url}' is not an http(s) URL.");
        }

        AWSCredentials? credentials = get("AWS_ACCESS_KEY_ID") is { Length: > 0 } key && get("AWS_SECRET_ACCESS_KEY") is { Length: > 0 } secret
            ? get("AWS_SESSION_TOKEN") is { Length: > 0 } token ? new SessionAWSCredentials(key, secret, token) : new BasicAWSCredentials(key, secret)
            : null;
        return new StepFunctionsOptions { StateMachineArn = stateMachineArn, Region = region, Endpoint = endpoint, Credentials = credentials };
    }
}

/// <summary>
/// StartExecution and DescribeExecution over the awsJson1.0 protocol, signed with AWSSDK.Core's SigV4 signer
/// (AWSSDK.StepFunctions is not available here, and each call is one POST).
/// </summary>
public sealed class StepFunctionsExecutionStarter : IExecutionStarter
{
    private const string ContentType = "application/x-amz-json-1.0";
    private const string StartTarget = "AWSStepFunctions.StartExecution";
    private const string DescribeTarget = "AWSStepFunctions.DescribeExecution";

    /// <summary>StartExecution answers an existing running execution with its original startDate; a start older than
    /// this before our request means the execution was already running.</summary>
    private static readonly TimeSpan RecentStart = TimeSpan.FromSeconds(5);

    private readonly HttpClient _http;
    private readonly StepFunctionsOptions _options;
    private readonly Uri _endpoint;
    private readonly RegionEndpoint _region;
    private readonly TimeProvider _time;
    private readonly Lazy<AWSCredentials> _credentials;

    public StepFunctionsExecutionStarter(HttpClient http, StepFunctionsOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _options = options;
        _region = RegionEndpoint.GetBySystemName(options.Region);
        _endpoint = options.Endpoint ?? new Uri($"https://states.{options.Region}.amazonaws.com/");
        _time = time ?? TimeProvider.System;
        _credentials = new Lazy<AWSCredentials>(
            () => options.Credentials ?? DefaultAWSCredentialsIdentityResolver.GetCredentials(null));
    }

    public async Task<ExecutionStartResult> StartAsync(string name, string inputJson, CancellationToken cancellationToken)
    {
        var traceHeader = Environment.GetEnvironmentVariable("_X_AMZN_TRACE_ID");
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new StartExecutionRequest(_options.StateMachineArn, name, inputJson, traceHeader is { Length: > 0 and <= 256 } ? traceHeader : null),
            StepFunctionsJson.Default.StartExecutionRequest);
        var sentAt = _time.GetUtcNow();
        var (status, text) = await SendAsync(StartTarget, "StartExecution", body, sentAt, cancellationToken);
        if (status == HttpStatusCode.OK)
        {
            var started = Parse(text, StepFunctionsJson.Default.StartExecutionResponse);
            var startDate = started?.StartDate is { } seconds ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000)) : sentAt;
            var outcome = startDate < sentAt - RecentStart ? ExecutionStartOutcome.AlreadyRunning : ExecutionStartOutcome.Started;
            return new ExecutionStartResult(outcome, started?.ExecutionArn);
        }

        var (type, message) = Error(text);
        if (type == "ExecutionAlreadyExists")
        {
            return new ExecutionStartResult(ExecutionStartOutcome.AlreadyExists, ExecutionArn(name));
        }

        throw Fault("StartExecution", status, type, message);
    }

    public async Task<ExecutionState?> DescribeAsync(string name, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new DescribeExecutionRequest(ExecutionArn(name)), StepFunctionsJson.Default.DescribeExecutionRequest);
        var (status, text) = await SendAsync(DescribeTarget, "DescribeExecution", body, _time.GetUtcNow(), cancellationToken);
        if (status == HttpStatusCode.OK)
        {
            var described = Parse(text, StepFunctionsJson.Default.DescribeExecutionResponse);
            return ExecutionStates.Parse(described?.Status)
                ?? throw new ExecutionStartException($"DescribeExecution answered status '{described?.Status}', which this trigger does not know.", transient: false);
        }

        var (type, message) = Error(text);
        if (type == "ExecutionDoesNotExist")
        {
            return null;
        }

        throw Fault("DescribeExecution", status, type, message);
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

    private async Task<(HttpStatusCode Status, string Text)> SendAsync(string target, string operation, byte[] body, DateTimeOffset signedAt, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            using var request = await SignedRequestAsync(target, body, signedAt, cancellationToken);
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new ExecutionStartException($"{operation} could not be sent: {ex.Message}", transient: true, ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ExecutionStartException($"{operation} timed out.", transient: true, ex);
        }
        catch (AmazonClientException ex)
        {
            throw new ExecutionStartException($"No AWS credentials to sign {operation}: {ex.Message}", transient: false, ex);
        }

        using (response)
        {
            return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }
    }

    /// <summary>The error's short name (<c>__type</c> after the last '#') and message.</summary>
    private static (string Type, string? Message) Error(string text)
    {
        var error = Parse(text, StepFunctionsJson.Default.AwsJsonError);
        var type = error?.Type is { } t ? t[(t.LastIndexOf('#') + 1)..] : "";
        return (type, error?.Message ?? text);
    }

    private static ExecutionStartException Fault(string operation, HttpStatusCode status, string type, string? message)
    {
        var transient = (int)status >= 500
            || status == HttpStatusCode.TooManyRequests
            || type is "ThrottlingException" or "ServiceUnavailable" or "InternalFailure" or "RequestTimeout";
        return new ExecutionStartException($"{operation} answered {(int)status} {type}: {message}", transient);
    }

    private Task<HttpRequestMessage> SignedRequestAsync(string target, byte[] body, DateTimeOffset signedAt, CancellationToken cancellationToken) =>
        AwsSignedPost.CreateAsync(
            new AwsSignedPostRequest
            {
                Endpoint = _endpoint,
                Service = "states",
                Region = _region,
                Credentials = _credentials.Value,
                ContentType = ContentType,
                Target = target,
                Body = body,
                SignedAt = signedAt,
            },
            cancellationToken);

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
