using System.Net;
using System.Text.Json;
using System.Xml.Linq;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;

namespace Writeback.Aws;

/// <summary>Where one AWS service is called and as whom.</summary>
public sealed record AwsServiceOptions
{
    /// <summary>The signing name, which is also the regional endpoint's first label: <c>states</c>, <c>secretsmanager</c>, <c>sns</c>.</summary>
    public required string Service { get; init; }

    /// <summary>The region to sign for, e.g. <c>us-east-1</c>.</summary>
    public required string Region { get; init; }

    /// <summary>Defaults to <c>https://{service}.{region}.amazonaws.com/</c>; set for tests, local stand-ins or VPC endpoints.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>Defaults to the SDK's credential chain (in Lambda: the function role from the environment).</summary>
    public AWSCredentials? Credentials { get; init; }
}

/// <summary>An AWS protocol's body and the headers that name the operation.</summary>
public sealed record AwsRequest(string ContentType, string? Target, byte[] Body)
{
    /// <summary>awsJson1.0 (Step Functions).</summary>
    public static AwsRequest Json10(string target, byte[] body) => new("application/x-amz-json-1.0", target, body);

    /// <summary>awsJson1.1 (Secrets Manager).</summary>
    public static AwsRequest Json11(string target, byte[] body) => new("application/x-amz-json-1.1", target, body);

    /// <summary>The Query protocol (SNS): the action is in the form body.</summary>
    public static AwsRequest Query(byte[] body) => new("application/x-www-form-urlencoded; charset=utf-8", null, body);
}

/// <summary>
/// One POST to one AWS service, signed with AWSSDK.Core's SigV4 signer, for the calls whose service SDKs are not
/// served here (Step Functions, Secrets Manager, SNS). A request that never got an answer, or had no credentials to
/// sign it, is an <see cref="AwsCallException"/>; an answer of any status is returned for the caller to read.
/// </summary>
public sealed class AwsServiceClient
{
    private readonly HttpClient _http;
    private readonly AwsServiceOptions _options;
    private readonly RegionEndpoint _region;
    private readonly TimeProvider _time;
    private readonly Lazy<AWSCredentials> _credentials;

    public AwsServiceClient(HttpClient http, AwsServiceOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _options = options;
        _region = RegionEndpoint.GetBySystemName(options.Region);
        Endpoint = options.Endpoint ?? new Uri($"https://{options.Service}.{options.Region}.amazonaws.com/");
        _time = time ?? TimeProvider.System;
        // Resolved on first use: a client built for a call that never happens needs no credentials.
        _credentials = new Lazy<AWSCredentials>(() => options.Credentials ?? DefaultAWSCredentialsIdentityResolver.GetCredentials(null));
    }

    public Uri Endpoint { get; }

    /// <summary>Sends <paramref name="request"/> signed at <paramref name="signedAt"/> (now when null); <paramref name="operation"/> names it in errors.</summary>
    public async Task<AwsResponse> PostAsync(string operation, AwsRequest request, CancellationToken cancellationToken, DateTimeOffset? signedAt = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        HttpResponseMessage response;
        try
        {
            using var signed = await AwsSignedPost.CreateAsync(
                new AwsSignedPostRequest
                {
                    Endpoint = Endpoint,
                    Service = _options.Service,
                    Region = _region,
                    Credentials = _credentials.Value,
                    ContentType = request.ContentType,
                    Target = request.Target,
                    Body = request.Body,
                    SignedAt = signedAt ?? _time.GetUtcNow(),
                },
                cancellationToken);
            response = await _http.SendAsync(signed, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new AwsCallException($"{operation} could not be sent: {e.Message}", transient: true, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AwsCallException($"{operation} timed out.", transient: true, e);
        }
        catch (AmazonClientException e)
        {
            throw new AwsCallException($"No AWS credentials to sign {operation}: {e.Message}", transient: false, e);
        }

        using (response)
        {
            return new AwsResponse(operation, response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }
    }
}

/// <summary>An AWS service's answer, and how its errors map: the error's short name and message, and whether a retry may help.</summary>
public sealed record AwsResponse(string Operation, HttpStatusCode Status, string Text)
{
    /// <summary>An unparsed error body is quoted into an exception at most this long.</summary>
    private const int MaxQuoted = 500;

    public bool IsSuccess => (int)Status is >= 200 and < 300;

    /// <summary>
    /// The error's short name (awsJson's <c>__type</c> after the last '#', the Query protocol's <c>Error/Code</c>) and
    /// message; an empty name when the body names none.
    /// </summary>
    public (string Type, string Message) Error()
    {
        var quoted = Text.Length > MaxQuoted ? Text[..MaxQuoted] : Text;
        try
        {
            if (Text.TrimStart().StartsWith('<'))
            {
                var elements = XDocument.Parse(Text).Descendants().ToList();
                return (elements.FirstOrDefault(e => e.Name.LocalName == "Code")?.Value ?? "",
                    elements.FirstOrDefault(e => e.Name.LocalName == "Message")?.Value ?? quoted);
            }

            using var json = JsonDocument.Parse(Text);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return ("", quoted);
            }

            var type = root.TryGetProperty("__type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
            var message = (root.TryGetProperty("message", out var m) || root.TryGetProperty("Message", out m)) && m.ValueKind == JsonValueKind.String
                ? m.GetString()!
                : quoted;
            return (type[(type.LastIndexOf('#') + 1)..], message);
        }
        catch (Exception e) when (e is JsonException or System.Xml.XmlException)
        {
            return ("", quoted);
        }
    }

    /// <summary>The failure for a non-success answer, "{operation} answered {status} {type}: {message}": transient for
    /// server-side failures and throttling, which is what the AWS SDKs retry.</summary>
    public AwsCallException Fault()
    {
        var (type, message) = Error();
        var transient = (int)Status >= 500
            || Status == HttpStatusCode.TooManyRequests
            || type is "ThrottlingException" or "ServiceUnavailable" or "InternalFailure" or "RequestTimeout";
        return new AwsCallException($"{Operation} answered {(int)Status} {type}: {message}", transient);
    }
}

/// <summary>An AWS call that failed: never sent, timed out, unsigned for lack of credentials, or answered with an error.</summary>
public sealed class AwsCallException : Exception
{
    public AwsCallException(string message, bool transient, Exception? innerException = null)
        : base(message, innerException) => Transient = transient;

    public AwsCallException() : this("The AWS call failed.", transient: false) { }

    public AwsCallException(string message) : this(message, transient: false) { }

    public AwsCallException(string message, Exception innerException) : this(message, transient: false, innerException) { }

    /// <summary>Whether the same call may succeed if tried again.</summary>
    public bool Transient { get; }
}
