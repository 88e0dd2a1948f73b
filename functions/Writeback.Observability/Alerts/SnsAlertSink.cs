using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;

using Writeback.Lambda.Aws;

namespace Writeback.Observability.Alerts;

public sealed record SnsOptions
{
    public const string TopicArnVariable = "WRITEBACK_ALERT_TOPIC_ARN";

    /// <summary><c>arn:aws:sns:{region}:{account}:{name}</c>; the region to sign for comes from it unless set.</summary>
    public required string TopicArn { get; init; }

    public string? Region { get; init; }

    /// <summary>Defaults to <c>https://sns.{region}.amazonaws.com/</c>; set for tests or VPC endpoints.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>Defaults to the SDK's credential chain (in Lambda: the function role from the environment).</summary>
    public AWSCredentials? Credentials { get; init; }

    public string ResolvedRegion =>
        Region ?? (TopicArn.Split(':') is { Length: >= 6 } parts && parts[3].Length > 0
            ? parts[3]
            : throw new ArgumentException($"'{TopicArn}' is not an SNS topic ARN.", nameof(TopicArn)));
}

/// <summary>
/// SNS Publish over its Query API (form-encoded POST, SigV4 signed with AWSSDK.Core's signer): the one call does not
/// justify the SNS SDK, which is not served here anyway.
/// </summary>
public sealed class SnsAlertSink : IAlertSink
{
    private const string ContentType = "application/x-www-form-urlencoded; charset=utf-8";

    /// <summary>SNS rejects subjects over 100 characters and with control characters.</summary>
    private const int MaxSubject = 100;

    private readonly HttpClient _http;
    private readonly SnsOptions _options;
    private readonly Uri _endpoint;
    private readonly RegionEndpoint _region;
    private readonly TimeProvider _time;
    private readonly Lazy<AWSCredentials> _credentials;

    public SnsAlertSink(HttpClient http, SnsOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _options = options;
        var region = options.ResolvedRegion;
        _region = RegionEndpoint.GetBySystemName(region);
        _endpoint = options.Endpoint ?? new Uri($"https://sns.{region}.amazonaws.com/");
        _time = time ?? TimeProvider.System;
        _credentials = new Lazy<AWSCredentials>(() => options.Credentials ?? DefaultAWSCredentialsIdentityResolver.GetCredentials(null));
    }

    public string Name => "sns";

    /// <summary>The form body of a Publish request.</summary>
    public static string FormBody(string topicArn, Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var subject = new string([.. alert.Subject.Where(c => !char.IsControl(c))]);
        if (subject.Length > MaxSubject)
        {
            subject = subject[..(MaxSubject - 1)] + "…";
        }

        return string.Join('&',
            "Action=Publish",
            "TopicArn=" + Uri.EscapeDataString(topicArn),
            "Subject=" + Uri.EscapeDataString(subject),
            "Message=" + Uri.EscapeDataString(alert.Message),
            "Version=2010-03-31");
    }

    public async Task SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(FormBody(_options.TopicArn, alert));
        try
        {
            using var request = await AwsSignedPost.CreateAsync(
                new AwsSignedPostRequest
                {
                    Endpoint = _endpoint,
                    Service = "sns",
                    Region = _region,
                    Credentials = _credentials.Value,
                    ContentType = ContentType,
                    Body = body,
                    SignedAt = _time.GetUtcNow(),
                },
                cancellationToken);

            using var response = await _http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                throw new AlertDeliveryException($"SNS Publish answered {(int)response.StatusCode}: {(text.Length > 500 ? text[..500] : text)}");
            }
        }
        catch (HttpRequestException e)
        {
            throw new AlertDeliveryException($"SNS Publish could not be sent: {e.Message}", e);
        }
        catch (AmazonClientException e)
        {
            throw new AlertDeliveryException($"no AWS credentials to sign SNS Publish: {e.Message}", e);
        }
    }
}
