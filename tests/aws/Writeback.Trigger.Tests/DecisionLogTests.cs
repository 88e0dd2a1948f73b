using System.Text.Json.Nodes;
using Writeback.Functions;
using Writeback.Trigger.Host;
using Writeback.Telemetry;

namespace Writeback.Trigger.Tests;

/// <summary>The trigger host's log: one JSON line per push decision, with status and reason, and no signed URL.</summary>
public sealed class DecisionLogTests : IDisposable
{
    private readonly TriggerTestKit _kit = new();
    private readonly StringWriter _output = new();

    public void Dispose()
    {
        _kit.Dispose();
        _output.Dispose();
    }

    private DecisionLoggingHandler Handler => new(_kit.Handler, new StructuredLog(_output));

    private List<JsonObject> Lines => [.. _output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject())];

    private static string FunctionUrlEvent(string? token, string body) => new JsonObject
    {
        ["version"] = "2.0",
        ["rawPath"] = "/",
        ["rawQueryString"] = "",
        ["headers"] = token is null
            ? new JsonObject { ["content-type"] = "application/json" }
            : new JsonObject { ["content-type"] = "application/json", ["authorization"] = $"Bearer {token}" },
        ["requestContext"] = new JsonObject { ["http"] = new JsonObject { ["method"] = "POST", ["path"] = "/" }, ["requestId"] = "req-1" },
        ["body"] = body,
        ["isBase64Encoded"] = false,
    }.ToJsonString();

    private Task<string> PushAsync(string? token, string body) =>
        Handler.InvokeAsync(FunctionUrlEvent(token, body), InvocationContext.Local(TimeSpan.FromMinutes(1)), CancellationToken.None);

    [Fact]
    public async Task A_started_batch_is_logged_once_as_accepted_with_its_status_and_batch_id()
    {
        await PushAsync(_kit.ValidToken(), TriggerTestKit.Envelope(_kit.Event()));

        var line = Assert.Single(Lines);
        Assert.Equal("trigger decision", (string?)line["message"]);
        Assert.Equal("accepted", (string?)line["decision"]);
        Assert.Equal(202, (int)line["status"]!);
        Assert.Equal("started", (string?)line["outcome"]);
        Assert.Equal("student_dashboard-2026-11-25-001", (string?)line["batchId"]);
        Assert.Equal("info", (string?)line["level"]);
    }

    [Fact]
    public async Task A_redelivered_push_is_logged_as_a_duplicate()
    {
        var envelope = TriggerTestKit.Envelope(_kit.Event());
        await PushAsync(_kit.ValidToken(), envelope);
        await PushAsync(_kit.ValidToken(), envelope);

        Assert.Equal(["accepted", "duplicate"], Lines.Select(l => (string?)l["decision"]));
        Assert.Equal(200, (int)Lines[1]["status"]!);
    }

    [Fact]
    public async Task A_push_without_a_token_is_logged_as_rejected_with_the_status_and_reason_code()
    {
        var answer = await PushAsync(null, TriggerTestKit.Envelope(_kit.Event()));

        var line = Assert.Single(Lines);
        var status = (int)JsonNode.Parse(answer)!["statusCode"]!;
        Assert.InRange(status, 400, 499);
        Assert.Equal("rejected", (string?)line["decision"]);
        Assert.Equal(status, (int)line["status"]!);
        Assert.False(string.IsNullOrEmpty((string?)line["code"]), "a rejection must carry its reason code");
        Assert.Equal("warn", (string?)line["level"]);
    }

    [Fact]
    public async Task A_rejection_that_quotes_a_signed_manifest_url_logs_no_part_of_its_query_string()
    {
        // The trigger's own answer may quote the URL the caller sent (manifest_unreachable does); the log must not.
        const string signed = "https://storage.googleapis.com/bucket/manifest.json?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=0123456789abcdef";
        var inner = new CannedHandler(422, $$"""{"outcome":"rejected","error":"manifest_unreachable","message":"The manifest {{signed}} cannot be read: HTTP 404."}""");

        await new DecisionLoggingHandler(inner, new StructuredLog(_output)).InvokeAsync("{}", InvocationContext.Local(TimeSpan.FromMinutes(1)), CancellationToken.None);

        var line = Assert.Single(Lines);
        Assert.Equal(("rejected", 422, "manifest_unreachable"), ((string?)line["decision"], (int)line["status"]!, (string?)line["code"]));
        Assert.DoesNotContain("X-Goog", _output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("0123456789abcdef", _output.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("manifest.json", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_id_longer_than_an_execution_name_is_cut_in_the_log()
    {
        var inner = new CannedHandler(202, $$"""{"outcome":"started","message":"m","batchId":"{{new string('b', 500)}}"}""");

        await new DecisionLoggingHandler(inner, new StructuredLog(_output)).InvokeAsync("{}", InvocationContext.Local(TimeSpan.FromMinutes(1)), CancellationToken.None);

        Assert.Equal(new string('b', DecisionLoggingHandler.MaxBatchIdLength), (string?)Assert.Single(Lines)["batchId"]);
    }

    [Fact]
    public async Task A_failure_to_start_is_logged_as_failed_at_error_level()
    {
        var inner = new CannedHandler(503, """{"outcome":"failed","error":"start_failed","message":"Step Functions did not answer"}""");

        await new DecisionLoggingHandler(inner, new StructuredLog(_output)).InvokeAsync("{}", InvocationContext.Local(TimeSpan.FromMinutes(1)), CancellationToken.None);

        var line = Assert.Single(Lines);
        Assert.Equal(("failed", 503, "start_failed", "error"), ((string?)line["decision"], (int)line["status"]!, (string?)line["code"], (string?)line["level"]));
    }

    private sealed class CannedHandler(int status, string body) : IFunctionHandler
    {
        public string Name => "canned";

        public Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken) =>
            Task.FromResult(new JsonObject { ["statusCode"] = status, ["headers"] = new JsonObject(), ["body"] = body }.ToJsonString());
    }
}
