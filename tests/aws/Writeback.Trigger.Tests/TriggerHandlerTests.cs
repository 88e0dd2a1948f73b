using System.Text.Json.Nodes;
using Writeback.Trigger.Auth;
using Writeback.Trigger.Executions;
using Writeback.Trigger.Local;

namespace Writeback.Trigger.Tests;

public sealed class TriggerHandlerTests : IDisposable
{
    private readonly TriggerTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private Task<TriggerAnswer> Push(string? token) => _kit.PushAsync(token, TriggerTestKit.Envelope(_kit.Event()));

    private void AssertRejected(TriggerAnswer answer, int status, string code, string messagePart)
    {
        Assert.Equal(status, answer.StatusCode);
        Assert.Equal("rejected", answer.Outcome);
        Assert.Equal(code, answer.Code);
        Assert.Contains(messagePart, answer.Message, StringComparison.Ordinal);
        Assert.Empty(_kit.StepFunctions.Started);
    }

    [Fact]
    public async Task A_valid_push_starts_exactly_one_execution_named_after_the_batch_with_the_reference_input()
    {
        var answer = await Push(_kit.ValidToken());

        Assert.Equal(202, answer.StatusCode);
        Assert.Equal("started", answer.Outcome);
        Assert.Equal("student_dashboard-2026-11-25-001", (string?)answer.Body["executionName"]);
        var (name, input) = Assert.Single(_kit.StepFunctions.Started);
        Assert.Equal("student_dashboard-2026-11-25-001", name);
        Assert.Equal(
            $$"""{"manifestUri":"{{_kit.ManifestUri}}","batchId":"student_dashboard-2026-11-25-001","dataset":"student_dashboard","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","partition":"2026-11-25"}""",
            input);
    }

    [Fact]
    public async Task A_push_without_a_token_is_rejected_and_starts_nothing()
    {
        AssertRejected(await Push(null), 401, "token_missing", "Authorization");
    }

    [Fact]
    public async Task A_push_with_a_non_bearer_authorization_is_rejected()
    {
        var answer = await _kit.PushAsync(null, TriggerTestKit.Envelope(_kit.Event()), authorization: $"Basic {_kit.ValidToken()}");
        AssertRejected(answer, 401, "token_missing", "Bearer");
    }

    [Fact]
    public async Task An_expired_token_is_rejected()
    {
        var token = _kit.Token(c => c with { IssuedAt = DateTimeOffset.UtcNow.AddHours(-2), ExpiresAt = DateTimeOffset.UtcNow.AddHours(-1) });
        AssertRejected(await Push(token), 401, "token_expired", "expired");
    }

    [Fact]
    public async Task A_token_for_another_audience_is_rejected()
    {
        var token = _kit.Token(c => c with { Audience = "https://someone-else.example/" });
        AssertRejected(await Push(token), 401, "token_wrong_audience", "someone-else");
    }

    [Fact]
    public async Task A_token_from_another_issuer_is_rejected()
    {
        var token = _kit.Token(c => c with { Issuer = "https://evil.example" });
        AssertRejected(await Push(token), 401, "token_wrong_issuer", "evil.example");
    }

    [Fact]
    public async Task A_token_for_another_email_is_rejected()
    {
        var token = _kit.Token(c => c with { Email = "someone@demo-project.iam.gserviceaccount.com" });
        AssertRejected(await Push(token), 403, "token_wrong_email", "someone@");
    }

    [Fact]
    public async Task A_token_whose_email_is_not_verified_is_rejected()
    {
        var token = _kit.Token(c => c with { EmailVerified = false });
        AssertRejected(await Push(token), 403, "token_email_unverified", "email_verified");
    }

    [Fact]
    public async Task A_token_signed_by_another_key_is_rejected()
    {
        using var stranger = LocalOidcIssuer.Create();
        var token = _kit.Token(c => c, signer: stranger);
        AssertRejected(await Push(token), 401, "token_bad_signature", "signature");
    }

    [Fact]
    public async Task A_token_whose_payload_was_altered_is_rejected()
    {
        var parts = _kit.ValidToken().Split('.');
        var forged = _kit.Token(c => c with { Email = "attacker@example.com" }).Split('.')[1];
        AssertRejected(await Push($"{parts[0]}.{forged}.{parts[2]}"), 401, "token_bad_signature", "signature");
    }

    [Fact]
    public async Task A_bearer_value_that_is_not_a_JWT_is_rejected()
    {
        AssertRejected(await Push("not-a-jwt"), 401, "token_malformed", "JWT");
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("{\"subscription\":\"projects/p/subscriptions/s\"}")]
    [InlineData("[1,2,3]")]
    [InlineData("")]
    public async Task A_malformed_envelope_is_rejected(string body)
    {
        AssertRejected(await _kit.PushAsync(_kit.ValidToken(), body), 400, "envelope_malformed", "envelope");
    }

    [Fact]
    public async Task An_envelope_without_data_is_rejected()
    {
        var body = new JsonObject { ["message"] = new JsonObject { ["messageId"] = "1" } }.ToJsonString();
        AssertRejected(await _kit.PushAsync(_kit.ValidToken(), body), 400, "envelope_malformed", "message.data");
    }

    [Fact]
    public async Task Data_that_is_not_base64_is_rejected()
    {
        AssertRejected(await _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.EnvelopeWithData("%%% not base64 %%%")), 400, "data_not_base64", "base64");
    }

    [Fact]
    public async Task Data_that_is_not_JSON_is_rejected()
    {
        var data = Convert.ToBase64String("hello, not json"u8.ToArray());
        AssertRejected(await _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.EnvelopeWithData(data)), 400, "data_not_batch_ready_event", "batch-ready event");
    }

    [Fact]
    public async Task Data_that_is_JSON_but_not_the_event_contract_is_rejected()
    {
        var data = Convert.ToBase64String("""{"version":1,"batchId":"b1","dataset":"student_dashboard","manifestUri":"https://x/m.json","sequence":1,"extra":true}"""u8.ToArray());
        AssertRejected(await _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.EnvelopeWithData(data)), 400, "data_not_batch_ready_event", "extra");
    }

    [Fact]
    public async Task An_unknown_dataset_is_rejected()
    {
        var answer = await _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.Envelope(_kit.Event(dataset: "payroll")));
        AssertRejected(answer, 422, "dataset_unknown", "payroll");
    }

    [Theory]
    [InlineData("ftp://example.com/manifest.json")]
    [InlineData("http://example.com/manifest.json")]
    [InlineData("manifest.json")]
    public async Task A_manifest_uri_that_is_not_a_trusted_source_is_rejected(string manifestUri)
    {
        var answer = await _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.Envelope(_kit.Event(manifestUri: manifestUri)));
        AssertRejected(answer, 422, "manifest_untrusted", manifestUri);
    }

    [Theory]
    [InlineData("batch id with spaces")]
    [InlineData("batch/2026")]
    [InlineData("b12345678901234567890123456789012345678901234567890123456789012345678901234567890")]
    public async Task A_batch_id_that_cannot_name_an_execution_is_rejected(string batchId)
    {
        var answer = await _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.Envelope(_kit.Event(batchId: batchId)));
        AssertRejected(answer, 422, "batch_id_invalid", "[0-9A-Za-z_-]");
    }

    [Fact]
    public async Task A_manifest_file_that_does_not_exist_is_rejected()
    {
        var missing = new Uri(Path.Combine(_kit.Folder, $"no-such-{Guid.NewGuid():N}", "manifest.json")).AbsoluteUri;
        var answer = await _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.Envelope(_kit.Event(manifestUri: missing)));
        AssertRejected(answer, 422, "manifest_unreachable", "no such file");
    }

    [Fact]
    public async Task A_duplicate_push_while_the_first_execution_runs_answers_2xx_and_starts_nothing_new()
    {
        Assert.Equal(202, (await Push(_kit.ValidToken())).StatusCode);

        var duplicate = await Push(_kit.ValidToken());

        Assert.Equal(200, duplicate.StatusCode);
        Assert.Equal("already_running", duplicate.Outcome);
        Assert.Single(_kit.StepFunctions.Started);
    }

    [Fact]
    public async Task A_duplicate_push_after_the_execution_finished_answers_2xx_and_starts_nothing_new()
    {
        Assert.Equal(202, (await Push(_kit.ValidToken())).StatusCode);
        _kit.StepFunctions.Finish("student_dashboard-2026-11-25-001");

        var duplicate = await Push(_kit.ValidToken());

        Assert.Equal(200, duplicate.StatusCode);
        Assert.Equal("already_processed", duplicate.Outcome);
        Assert.Single(_kit.StepFunctions.Started);
    }

    [Fact]
    public async Task A_start_that_fails_on_our_side_answers_5xx_so_PubSub_redelivers()
    {
        _kit.StepFunctions.FailWith = new ExecutionStartException("StartExecution answered 500 InternalFailure", transient: true);

        var answer = await Push(_kit.ValidToken());

        Assert.Equal(503, answer.StatusCode);
        Assert.Equal("failed", answer.Outcome);
        Assert.Contains("InternalFailure", answer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_misconfigured_start_answers_500()
    {
        _kit.StepFunctions.FailWith = new ExecutionStartException("StartExecution answered 400 AccessDeniedException", transient: false);

        Assert.Equal(500, (await Push(_kit.ValidToken())).StatusCode);
    }

    [Fact]
    public async Task Only_POST_is_accepted()
    {
        var answer = await _kit.PushAsync(_kit.ValidToken(), "", method: "GET");
        AssertRejected(answer, 405, "method_not_allowed", "GET");
    }

    [Fact]
    public async Task A_base64_encoded_Function_URL_body_is_decoded()
    {
        var answer = await _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.Envelope(_kit.Event()), base64Body: true);

        Assert.Equal(202, answer.StatusCode);
        Assert.Single(_kit.StepFunctions.Started);
    }

    [Fact]
    public async Task An_invocation_that_is_not_a_Function_URL_event_is_answered_400()
    {
        var answer = await _kit.InvokeAsync("""{"Records":[]}""");

        Assert.Equal(400, answer.StatusCode);
        Assert.Equal("event_malformed", answer.Code);
        Assert.Empty(_kit.StepFunctions.Started);
    }

    [Fact]
    public async Task The_traceparent_falls_back_to_the_message_attribute()
    {
        var batch = _kit.Event() with { Traceparent = null };
        var body = JsonNode.Parse(TriggerTestKit.Envelope(batch))!.AsObject();
        body["message"]!["attributes"] = new JsonObject { ["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };

        Assert.Equal(202, (await _kit.PushAsync(_kit.ValidToken(), body.ToJsonString())).StatusCode);

        var input = JsonNode.Parse(Assert.Single(_kit.StepFunctions.Started).Input)!;
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", (string?)input["traceparent"]);
    }

    [Fact]
    public async Task Without_a_traceparent_the_input_still_carries_the_field_as_null()
    {
        Assert.Equal(202, (await _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.Envelope(_kit.Event() with { Traceparent = null }))).StatusCode);

        var input = JsonNode.Parse(Assert.Single(_kit.StepFunctions.Started).Input)!.AsObject();
        Assert.True(input.ContainsKey("traceparent"));
        Assert.Null(input["traceparent"]);
    }

    [Fact]
    public void The_handler_is_named_for_the_template()
    {
        Assert.Equal("writeback-trigger", _kit.Handler.Name);
    }
}
