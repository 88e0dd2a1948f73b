using Writeback.Functions;
using Writeback.StepFunctions;

namespace Writeback.Cli;

/// <summary>
/// The local engine's Lambda: binds function names to the project's handlers and calls them across the same JSON
/// boundary as the Lambda Runtime API. A <see cref="FunctionException"/> is a handled error (its ErrorType is the
/// ASL error name); anything else escapes and the engine reports it as Lambda.Unknown, as Lambda does for a crash.
/// </summary>
internal sealed class SfnLocalInvoker(IReadOnlyList<IFunctionHandler> handlers, TimeSpan functionTimeout) : ILambdaInvoker
{
    private readonly Dictionary<string, IFunctionHandler> _handlers = handlers.ToDictionary(h => h.Name, StringComparer.Ordinal);

    public IReadOnlyCollection<string> FunctionNames => _handlers.Keys;

    public async Task<LambdaInvocationResult> InvokeAsync(string functionName, string payloadJson, CancellationToken cancellationToken)
    {
        if (!_handlers.TryGetValue(functionName, out var handler))
        {
            var known = _handlers.Count == 0 ? "none (is WRITEBACK_PG set?)" : string.Join(", ", _handlers.Keys.Order(StringComparer.Ordinal));
            return LambdaInvocationResult.Failure("Lambda.ResourceNotFoundException", $"Function not found: {functionName}. Local functions: {known}.");
        }

        try
        {
            var context = InvocationContext.Local(functionTimeout, TraceId(payloadJson));
            return LambdaInvocationResult.Success(await handler.InvokeAsync(payloadJson, context, cancellationToken));
        }
        catch (FunctionException e)
        {
            return LambdaInvocationResult.Failure(e.ErrorType, e.Message);
        }
    }

    /// <summary>The W3C traceparent the execution input carries, if the payload has one at the top level.</summary>
    private static string? TraceId(string payloadJson)
    {
        try
        {
            return Json.Parse(payloadJson) is System.Text.Json.Nodes.JsonObject o && o["traceparent"] is { } t && t.GetValueKind() == System.Text.Json.JsonValueKind.String
                ? t.GetValue<string>()
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
