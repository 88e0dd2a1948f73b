using Writeback.Aggregate.Publishing;
using Writeback.Trigger.Auth;
using Writeback.Trigger.Local;

namespace Writeback.Cli.Local;

/// <summary>The local stand-in for Pub/Sub's push token: an OIDC token from the local issuer for the push identity.</summary>
internal sealed class IssuerTokenSource(LocalOidcIssuer issuer, string email) : IPushTokenSource
{
    public Task<string> GetTokenAsync(string audience, CancellationToken cancellationToken) => Task.FromResult(issuer.MintToken(audience, email));
}
