using Writeback.Functions;


namespace Writeback.Writers.Host;

/// <summary>
/// Answers without touching the database: a smoke test for a deployed artifact (invoke it from the console) and the
/// handler the cold-start benchmark measures, so it times the runtime and host rather than a network round trip.
/// </summary>
public sealed class PingHandler : IFunctionHandler
{
    public const string HandlerName = "writeback-ping";

    public string Name => HandlerName;

    public Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The request id is a GUID and needs no escaping; the payload is not echoed so it never lands in logs.
        return Task.FromResult($$"""{"pong":true,"requestId":"{{context.RequestId}}"}""");
    }
}
