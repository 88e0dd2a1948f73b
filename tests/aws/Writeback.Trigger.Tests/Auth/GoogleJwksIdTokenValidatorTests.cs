using System.Text.Json.Nodes;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Writeback.Trigger.Auth;
using Writeback.Trigger.Local;

namespace Writeback.Trigger.Tests.Auth;

/// <summary>The cloud key source (Google's JWKS) on the wire, with WireMock serving a local issuer's keys in Google's format.</summary>
public sealed class GoogleJwksIdTokenValidatorTests : IDisposable
{
    private readonly WireMockServer _google = WireMockServer.Start();
    private readonly HttpClient _http = new();
    private readonly LocalOidcIssuer _issuer = LocalOidcIssuer.Create();

    public void Dispose()
    {
        _google.Stop();
        _google.Dispose();
        _http.Dispose();
        _issuer.Dispose();
    }

    private GoogleJwksIdTokenValidator Validator() => new(_http, new Uri($"{_google.Url}/oauth2/v3/certs"));

    private void Publish(params LocalOidcIssuer[] issuers)
    {
        _google.Reset();
        var keys = new JsonArray([.. issuers.Select(i => JsonNode.Parse(i.ExportJwks())!["keys"]![0]!.DeepClone())]);
        _google.Given(Request.Create().WithPath("/oauth2/v3/certs").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Cache-Control", "public, max-age=21600").WithBody(new JsonObject { ["keys"] = keys }.ToJsonString()));
    }

    [Fact]
    public async Task A_token_signed_with_a_published_key_verifies_and_the_keys_are_fetched_once()
    {
        Publish(_issuer);
        using var validator = Validator();

        var claims = await validator.ValidateAsync(_issuer.MintToken(TriggerTestKit.Audience, TriggerTestKit.PushAccount), default);
        await validator.ValidateAsync(_issuer.MintToken(TriggerTestKit.Audience, TriggerTestKit.PushAccount), default);

        Assert.Equal(TriggerTestKit.PushAccount, claims.Email);
        Assert.Single(_google.LogEntries);
    }

    [Fact]
    public async Task A_token_signed_with_an_unpublished_key_is_rejected()
    {
        Publish(_issuer);
        using var validator = Validator();
        using var stranger = LocalOidcIssuer.Create();

        var rejection = await Assert.ThrowsAsync<TriggerRejectedException>(
            () => validator.ValidateAsync(stranger.MintToken(TriggerTestKit.Audience, TriggerTestKit.PushAccount), default));

        Assert.Equal(401, rejection.StatusCode);
        Assert.Equal("token_bad_signature", rejection.Code);
    }

    [Fact]
    public async Task Several_published_keys_are_all_trusted()
    {
        using var second = LocalOidcIssuer.Create();
        Publish(_issuer, second);
        using var validator = Validator();

        await validator.ValidateAsync(_issuer.MintToken(TriggerTestKit.Audience, TriggerTestKit.PushAccount), default);
        var claims = await validator.ValidateAsync(second.MintToken(TriggerTestKit.Audience, TriggerTestKit.PushAccount), default);

        Assert.Equal(TriggerTestKit.PushAccount, claims.Email);
    }

    [Fact]
    public async Task Unavailable_keys_are_our_fault_not_the_senders()
    {
        _google.Given(Request.Create().WithPath("/oauth2/v3/certs").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));
        using var validator = Validator();

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => validator.ValidateAsync(_issuer.MintToken(TriggerTestKit.Audience, TriggerTestKit.PushAccount), default));
    }
}
