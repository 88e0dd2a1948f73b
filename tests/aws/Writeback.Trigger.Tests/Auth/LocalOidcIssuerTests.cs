using Writeback.Trigger.Auth;
using Writeback.Trigger.Local;

namespace Writeback.Trigger.Tests.Auth;

public sealed class LocalOidcIssuerTests
{
    private static PushTokenVerifier VerifierFor(LocalIdTokenValidator validator) => new(
        validator,
        new PushAuthOptions { Audience = TriggerTestKit.Audience, ServiceAccountEmail = TriggerTestKit.PushAccount });

    [Fact]
    public async Task A_minted_token_carries_the_claims_of_a_PubSub_push_token()
    {
        using var issuer = LocalOidcIssuer.Create();
        using var validator = issuer.CreateValidator();

        var claims = await VerifierFor(validator).VerifyAsync($"Bearer {issuer.MintToken(TriggerTestKit.Audience, TriggerTestKit.PushAccount)}", default);

        Assert.Equal("https://accounts.google.com", claims.Issuer);
        Assert.Equal([TriggerTestKit.Audience], claims.Audiences);
        Assert.Equal(TriggerTestKit.PushAccount, claims.Email);
        Assert.True(claims.EmailVerified);
        Assert.NotNull(claims.Subject);
        Assert.True(claims.ExpiresAt > claims.IssuedAt);
    }

    [Fact]
    public async Task The_publisher_and_the_trigger_share_a_key_through_the_key_file()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("writeback-oidc-").FullName, "keys", "local-oidc.pem");
        try
        {
            using var publisher = LocalOidcIssuer.LoadOrCreate(path);
            using var trigger = LocalOidcIssuer.LoadOrCreate(path);
            using var validator = trigger.CreateValidator();

            Assert.Equal(publisher.KeyId, trigger.KeyId);
            await VerifierFor(validator).VerifyAsync($"Bearer {publisher.MintToken(TriggerTestKit.Audience, TriggerTestKit.PushAccount)}", default);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(Path.GetDirectoryName(path))!, recursive: true);
        }
    }

    [Fact]
    public async Task An_audience_with_or_without_the_trailing_slash_is_the_same_URL()
    {
        using var issuer = LocalOidcIssuer.Create();
        using var validator = issuer.CreateValidator();

        var claims = await VerifierFor(validator).VerifyAsync($"Bearer {issuer.MintToken(TriggerTestKit.Audience.TrimEnd('/'), TriggerTestKit.PushAccount)}", default);

        Assert.Equal(TriggerTestKit.PushAccount, claims.Email);
    }
}
