using System.Text.Json;
using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;
using Writeback.Aws.Sns;
using Writeback.Observability.Tests.Support;
using Writeback.Slo;
using Writeback.Slo.Alerts;
using Writeback.Telemetry;

namespace Writeback.Observability.Tests.Alerts;

public sealed class SinkTests
{
    private static readonly Alert Failure = new()
    {
        Kind = AlertKind.Failure,
        Dataset = "class_summary",
        State = SloState.Failed,
        BusinessDate = new DateOnly(2026, 11, 25),
        Deadline = new DateTimeOffset(2026, 11, 25, 23, 0, 0, TimeSpan.Zero),
        BatchId = "class_summary-2026-11-25-1",
        TraceId = "4bf92f3577b34da6a3ce929d0e0e4736",
        Cause = "shard 0: sha256 mismatch",
        Message = "FAILED: class_summary — batch class_summary-2026-11-25-1 failed: Writeback.InvalidBatch: shard 0: sha256 mismatch & more",
        RaisedAt = new DateTimeOffset(2026, 11, 25, 20, 0, 0, TimeSpan.Zero),
    };

    [Fact]
    public async Task The_slack_webhook_sink_posts_the_message_as_text_json()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        using var http = new HttpClient();

        await new SlackWebhookSink(http, new Uri(receiver.Url, "services/T000/B000/XXXX")).SendAsync(Failure, CancellationToken.None);

        var request = Assert.Single(receiver.Requests);
        Assert.Equal(("POST", "/services/T000/B000/XXXX"), (request.Method, request.Path));
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(Failure.Message, body.RootElement.GetProperty("text").GetString());
        Assert.Single(body.RootElement.EnumerateObject());
    }

    [Fact]
    public async Task The_slack_webhook_sink_reports_a_refusal_without_the_secret_url()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.StatusCode = 404;
        using var http = new HttpClient();
        var secret = new Uri(receiver.Url, "services/T000/B000/SECRET");

        var error = await Assert.ThrowsAsync<AlertDeliveryException>(() => new SlackWebhookSink(http, secret).SendAsync(Failure, CancellationToken.None));

        Assert.Contains("404", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sns_sink_sends_a_sigv4_signed_publish_form()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.ResponseBody = "<PublishResponse><PublishResult><MessageId>1</MessageId></PublishResult></PublishResponse>";
        using var http = new HttpClient();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 20, 0, 0, TimeSpan.Zero));
        var sink = new SnsAlertSink(http, new SnsOptions
        {
            TopicArn = "arn:aws:sns:ap-northeast-1:123456789012:writeback-alerts",
            Endpoint = receiver.Url,
            Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        }, time);

        await sink.SendAsync(Failure, CancellationToken.None);

        var request = Assert.Single(receiver.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("application/x-www-form-urlencoded; charset=utf-8", request.Headers["Content-Type"]);
        var authorization = request.Headers["Authorization"];
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261125/ap-northeast-1/sns/aws4_request", authorization, StringComparison.Ordinal);
        Assert.Contains("SignedHeaders=", authorization, StringComparison.Ordinal);
        Assert.Contains("content-type", authorization, StringComparison.Ordinal);
        Assert.Matches("Signature=[0-9a-f]{64}$", authorization);
        Assert.Equal("20261125T200000Z", request.Headers["X-Amz-Date"]);
        var form = request.Body.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));
        Assert.Equal("Publish", form["Action"]);
        Assert.Equal("2010-03-31", form["Version"]);
        Assert.Equal("arn:aws:sns:ap-northeast-1:123456789012:writeback-alerts", form["TopicArn"]);
        Assert.Equal(Failure.Message, form["Message"]);
        Assert.Equal("Writeback failure: class_summary (failed)", form["Subject"]);
    }

    [Fact]
    public async Task The_sns_sink_reports_an_error_answer()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.StatusCode = 403;
        receiver.ResponseBody = "<ErrorResponse><Error><Code>AuthorizationError</Code></Error></ErrorResponse>";
        using var http = new HttpClient();
        var sink = new SnsAlertSink(http, new SnsOptions
        {
            TopicArn = "arn:aws:sns:us-east-1:123456789012:alerts",
            Endpoint = receiver.Url,
            Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
        });

        var error = await Assert.ThrowsAsync<AlertDeliveryException>(() => sink.SendAsync(Failure, CancellationToken.None));

        Assert.Contains("AuthorizationError", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_log_sink_writes_one_json_line_with_batch_and_trace_ids()
    {
        var writer = new StringWriter();

        await new LogAlertSink(new StructuredLog(writer)).SendAsync(Failure, CancellationToken.None);

        var line = Assert.Single(writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("warn", json.RootElement.GetProperty("level").GetString());
        Assert.Equal(Failure.BatchId, json.RootElement.GetProperty("batchId").GetString());
        Assert.Equal(Failure.TraceId, json.RootElement.GetProperty("traceId").GetString());
        Assert.Equal("failure", json.RootElement.GetProperty("alert").GetString());
        Assert.Equal(Failure.Cause, json.RootElement.GetProperty("cause").GetString());
    }
}
