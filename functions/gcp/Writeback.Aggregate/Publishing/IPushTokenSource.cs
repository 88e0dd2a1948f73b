namespace Writeback.Aggregate.Publishing;

/// <summary>
/// Mints the OIDC token a push carries as <c>Authorization: Bearer</c>, for an audience (the push endpoint).
/// Pub/Sub does this in the cloud; locally the trigger's key pair does (injected by the host).
/// </summary>
public interface IPushTokenSource
{
    Task<string> GetTokenAsync(string audience, CancellationToken cancellationToken);
}

/// <summary>Always the same token: for tests and for hosts that were handed a token from outside.</summary>
public sealed class StaticPushTokenSource(string token) : IPushTokenSource
{
    public Task<string> GetTokenAsync(string audience, CancellationToken cancellationToken) => Task.FromResult(token);
}
