using System.Text;
using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Writeback.Core.Storage;
using Writeback.Trigger.Auth;

namespace Writeback.Trigger.Tests;

/// <summary>Issue 10: hostile pushes are refused with a short JSON answer, start nothing and fetch nothing untrusted.</summary>
public sealed class HostileInputTests : IDisposable
{
    private const string Signature = "X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=c&X-Goog-Signature=SECRETSIGNATURE";

    private readonly WireMockServer _storage = WireMockServer.Start();
    private readonly WireMockServer _foreign = WireMockServer.Start();
    private readonly TriggerTestKit _cloud;
    private readonly TriggerTestKit _local = new();

    public HostileInputTests()
    {
        _cloud = new TriggerTestKit(sources: SourcePolicy.Gcs("exports", "writeback", new Uri(_storage.Url! + "/")));
        _storage.Given(Request.Create().UsingGet()).RespondWith(Response.Create().WithStatusCode(206).WithBody("{"));
        _foreign.Given(Request.Create().UsingGet()).RespondWith(Response.Create().WithStatusCode(206).WithBody("{"));
    }

    public void Dispose()
    {
        _cloud.Dispose();
        _local.Dispose();
        _storage.Stop();
        _foreign.Stop();
        _storage.Dispose();
        _foreign.Dispose();
    }

    private static Task<TriggerAnswer> Push(TriggerTestKit kit, string manifestUri, string batchId = "student_dashboard-2026-11-25-001") =>
        kit.PushAsync(kit.ValidToken(), TriggerTestKit.Envelope(kit.Event(batchId: batchId, manifestUri: manifestUri)));

    private static void Refused(TriggerAnswer answer, TriggerTestKit kit, int status, string error)
    {
        Assert.Equal(status, answer.StatusCode);
        Assert.Equal(error, answer.Code);
        Assert.False(string.IsNullOrWhiteSpace(answer.Message));
        Assert.DoesNotContain("SECRETSIGNATURE", answer.Body.ToJsonString(), StringComparison.Ordinal);
        Assert.Empty(kit.StepFunctions.Started);
    }

    [Fact]
    public async Task A_signed_manifest_url_of_the_bucket_starts_an_execution_in_cloud_mode()
    {
        var answer = await Push(_cloud, $"{_storage.Url}/exports/writeback/b/manifest.json?{Signature}");

        Assert.Equal(202, answer.StatusCode);
        Assert.Single(_cloud.StepFunctions.Started);
    }

    [Fact]
    public async Task A_manifest_on_a_foreign_host_is_refused_with_422_and_is_never_fetched()
    {
        var answer = await Push(_cloud, $"{_foreign.Url}/exports/writeback/b/manifest.json?{Signature}");

        Refused(answer, _cloud, 422, "manifest_untrusted");
        Assert.Empty(_foreign.LogEntries);
    }

    [Theory]
    [InlineData("https://evil.example.com/exports/writeback/b/manifest.json")]
    [InlineData("https://169.254.169.254/latest/meta-data/iam/security-credentials/")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("file:///etc/passwd")]
    public async Task A_manifest_outside_the_bucket_is_refused_in_cloud_mode_before_anything_is_fetched(string manifestUri)
    {
        var answer = await Push(_cloud, manifestUri + "?" + Signature);

        Refused(answer, _cloud, 422, "manifest_untrusted");
        Assert.Empty(_storage.LogEntries);
    }

    [Fact]
    public async Task A_manifest_in_another_bucket_of_the_storage_endpoint_is_refused_and_not_probed()
    {
        var answer = await Push(_cloud, $"{_storage.Url}/other-bucket/writeback/b/manifest.json?{Signature}");

        Refused(answer, _cloud, 422, "manifest_untrusted");
        Assert.Contains("other-bucket", answer.Message, StringComparison.Ordinal);
        Assert.Empty(_storage.LogEntries);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("file:///proc/self/environ")]
    [InlineData("file:///dev/zero")]
    [InlineData("/etc/passwd")]
    public async Task A_local_file_outside_the_export_folder_is_refused(string manifestUri)
    {
        Refused(await Push(_local, manifestUri), _local, 422, "manifest_untrusted");
    }

    [Fact]
    public async Task A_dot_dot_path_out_of_the_export_folder_is_refused()
    {
        var climbing = "file://" + Path.Combine(_local.Folder, "..", "..", "etc", "passwd");

        var answer = await Push(_local, climbing);

        Refused(answer, _local, 422, "manifest_untrusted");
        Assert.Contains("relative step", answer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_https_manifest_on_a_port_that_speaks_plain_http_is_a_422_not_a_503()
    {
        var port = new Uri(_storage.Url!).Port;

        var answer = await Push(_local, $"https://127.0.0.1:{port}/b/manifest.json");

        Refused(answer, _local, 422, "manifest_unreachable");
        Assert.Contains("no TLS connection", answer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redirecting_manifest_url_is_not_followed()
    {
        using var http = BatchFiles.CreateHttpClient(TimeSpan.FromSeconds(10));
        _storage.Given(Request.Create().WithPath("/b/redirect.json").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(302).WithHeader("Location", $"{_foreign.Url}/latest/meta-data/"));
        using var kit = new TriggerTestKit(http: http);

        var answer = await Push(kit, $"{_storage.Url}/b/redirect.json");

        Refused(answer, kit, 422, "manifest_unreachable");
        Assert.Empty(_foreign.LogEntries);
    }

    [Fact]
    public async Task The_query_string_of_a_signed_url_is_not_echoed_when_the_manifest_is_missing()
    {
        _storage.Given(Request.Create().WithPath("/exports/writeback/b/missing.json").UsingGet()).RespondWith(Response.Create().WithStatusCode(404));

        var answer = await Push(_cloud, $"{_storage.Url}/exports/writeback/b/missing.json?{Signature}");

        Refused(answer, _cloud, 422, "manifest_unreachable");
        Assert.Contains("missing.json", answer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_uri_just_over_the_limit_gets_a_short_422()
    {
        var answer = await Push(_cloud, $"{_storage.Url}/exports/writeback/{new string('a', 5000)}/manifest.json?{Signature}");

        Refused(answer, _cloud, 422, "event_invalid");
        Assert.True(answer.Body.ToJsonString().Length < 600, answer.Body.ToJsonString());
    }

    [Fact]
    public async Task A_megabyte_manifest_uri_gets_a_short_413()
    {
        var answer = await Push(_cloud, $"{_storage.Url}/exports/writeback/{new string('a', 1024 * 1024)}/manifest.json?{Signature}");

        Refused(answer, _cloud, 413, "body_too_large");
        Assert.True(answer.Body.ToJsonString().Length < 600, answer.Body.ToJsonString());
    }

    [Fact]
    public async Task A_fifteen_megabyte_batch_id_gets_a_short_413()
    {
        var answer = await Push(_local, _local.ManifestUri, batchId: new string('b', 15 * 1024 * 1024));

        Refused(answer, _local, 413, "body_too_large");
        Assert.True(answer.Body.ToJsonString().Length < 600, answer.Body.ToJsonString());
    }

    [Fact]
    public async Task A_batch_id_over_eighty_characters_is_echoed_only_in_part()
    {
        var answer = await Push(_local, _local.ManifestUri, batchId: new string('b', 5000));

        Refused(answer, _local, 422, "batch_id_invalid");
        Assert.Contains("5000 characters", answer.Message, StringComparison.Ordinal);
        Assert.True(answer.Message.Length < 300, answer.Message);
    }

    [Fact]
    public async Task A_negative_sequence_is_refused()
    {
        var batch = _local.Event() with { Sequence = -1 };

        var answer = await _local.PushAsync(_local.ValidToken(), TriggerTestKit.Envelope(batch));

        Refused(answer, _local, 422, "event_invalid");
        Assert.Contains("sequence", answer.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"version\":1", "\"version\":\"1\"")]
    [InlineData("\"batchId\"", "\"BatchId\"")]
    [InlineData("\"manifestUri\"", "\"MANIFESTURI\"")]
    [InlineData("\"sequence\":1", "\"sequence\":\"1\"")]
    [InlineData("\"sequence\":1", "\"sequence\":1,\"sequence\":2")]
    public async Task An_event_that_is_not_strict_contract_json_is_refused(string from, string to)
    {
        var json = Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(_local.Event(), Core.Contracts.ContractJson.Default.BatchReadyEvent));
        var compact = JsonNode.Parse(json)!.ToJsonString();
        var bad = compact.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(compact, bad);

        var answer = await _local.PushAsync(_local.ValidToken(), TriggerTestKit.EnvelopeWithData(Convert.ToBase64String(Encoding.UTF8.GetBytes(bad))));

        Refused(answer, _local, 400, "data_not_batch_ready_event");
    }

    [Fact]
    public async Task A_token_that_is_not_yet_valid_is_refused()
    {
        var token = _local.Token(c => c with { NotBefore = DateTimeOffset.UtcNow.AddMinutes(10) });

        var answer = await _local.PushAsync(token, TriggerTestKit.Envelope(_local.Event()));

        Refused(answer, _local, 401, "token_not_yet_valid");
    }

    [Fact]
    public async Task An_audience_array_that_also_names_a_foreign_audience_is_refused()
    {
        var token = _local.Token(c => c with { Audiences = [TriggerTestKit.Audience, "https://other-receiver.example.com/"] });

        var answer = await _local.PushAsync(token, TriggerTestKit.Envelope(_local.Event()));

        Refused(answer, _local, 401, "token_wrong_audience");
    }

    [Fact]
    public async Task An_audience_array_of_only_this_trigger_is_accepted()
    {
        var token = _local.Token(c => c with { Audiences = [TriggerTestKit.Audience] });

        var answer = await _local.PushAsync(token, TriggerTestKit.Envelope(_local.Event()));

        Assert.Equal(202, answer.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("another-key")]
    public async Task A_local_token_whose_kid_is_not_the_issuers_key_is_refused(string kid)
    {
        var answer = await _local.PushAsync(_local.Token(c => c with { KeyId = kid }), TriggerTestKit.Envelope(_local.Event()));

        Refused(answer, _local, 401, "token_bad_signature");
    }

    [Fact]
    public async Task A_push_to_another_path_gets_a_json_404()
    {
        var envelope = JsonNode.Parse(await FunctionUrlEventAsync("POST"))!.AsObject();
        envelope["rawPath"] = "/admin";

        var answer = await _local.InvokeAsync(envelope.ToJsonString());

        Refused(answer, _local, 404, "not_found");
    }

    [Fact]
    public async Task A_get_gets_a_json_405()
    {
        Refused(await _local.InvokeAsync(await FunctionUrlEventAsync("GET")), _local, 405, "method_not_allowed");
    }

    [Fact]
    public async Task A_failure_on_the_triggers_side_still_answers_json()
    {
        using var kit = new TriggerTestKit(validator: new ThrowingValidator());

        var answer = await kit.PushAsync(kit.ValidToken(), TriggerTestKit.Envelope(kit.Event()));

        Refused(answer, kit, 503, "internal_error");
    }

    private Task<string> FunctionUrlEventAsync(string method) => Task.FromResult(new JsonObject
    {
        ["version"] = "2.0",
        ["rawPath"] = "/",
        ["headers"] = new JsonObject { ["authorization"] = "Bearer " + _local.ValidToken() },
        ["requestContext"] = new JsonObject { ["http"] = new JsonObject { ["method"] = method } },
        ["body"] = TriggerTestKit.Envelope(_local.Event()),
        ["isBase64Encoded"] = false,
    }.ToJsonString());

    private sealed class ThrowingValidator : IIdTokenValidator
    {
        public Task<IdTokenClaims> ValidateAsync(string token, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("Google's signing keys could not be fetched.");
    }
}
