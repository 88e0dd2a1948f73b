using System.Text;
using Amazon.Runtime;
using Writeback.Aws;
using Writeback.Slo.Alerts;

namespace Writeback.Aws.Sns;

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
/// SNS Publish over its Query API (form-encoded POST, through <see cref="AwsServiceClient"/>): the one call does not
/// justify the SNS SDK, which is not served here anyway.
/// </summary>
public sealed class SnsAlertSink : IAlertSink
{
    /// <summary>SNS rejects subjects over 100 characters and with control characters.</summary>
    private const int MaxSubject = 100;

    private readonly AwsServiceClient _sns;
    private readonly SnsOptions _options;

    public SnsAlertSink(HttpClient http, SnsOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _sns = new AwsServiceClient(
            http,
            new AwsServiceOptions { Service = "sns", Region = options.ResolvedRegion, Endpoint = options.Endpoint, Credentials = options.Credentials },
            time);
    }

    /// <summary>The sink the AWS hosts add when <see cref="SnsOptions.TopicArnVariable"/> is set; null when it is not.</summary>
    public static SnsAlertSink? FromEnvironment(HttpClient http, Func<string, string?> get, TimeProvider? time = null) =>
        (get ?? throw new ArgumentNullException(nameof(get)))(SnsOptions.TopicArnVariable) is { Length: > 0 } topic
            ? new SnsAlertSink(http, new SnsOptions { TopicArn = topic }, time)
            : null;

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
        AwsResponse response;
        try
        {
            response = await _sns.PostAsync("SNS Publish", AwsRequest.Query(body), cancellationToken);
        }
        catch (AwsCallException e)
        {
            throw new AlertDeliveryException(e.Message, e);
        }

        if (!response.IsSuccess)
        {
            throw new AlertDeliveryException(response.Fault().Message);
        }
    }
}
