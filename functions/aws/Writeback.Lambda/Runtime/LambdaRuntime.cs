using Writeback.Functions;

namespace Writeback.Lambda.Runtime;

/// <summary>Where the runtime finds the Runtime API and which handler it hosts.</summary>
public sealed record LambdaRuntimeOptions
{
    public const string RuntimeApiVariable = "AWS_LAMBDA_RUNTIME_API";
    public const string HandlerVariable = "_HANDLER";
    public const string TraceIdVariable = "_X_AMZN_TRACE_ID";

    /// <summary><c>host:port</c> of the Runtime API.</summary>
    public required string RuntimeApi { get; init; }

    /// <summary>The <see cref="IFunctionHandler.Name"/> to host; null hosts the only handler if there is exactly one.</summary>
    public string? HandlerName { get; init; }

    /// <summary>
    /// How long before the deadline the invocation's token is cancelled. A little head room lets a cancelled handler's
    /// error reach the Runtime API before Lambda stops the sandbox, so the caller sees a named error instead of a timeout.
    /// </summary>
    public TimeSpan DeadlineMargin { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>For tests: the transport to the Runtime API.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    public static LambdaRuntimeOptions FromEnvironment() => new()
    {
        RuntimeApi = Environment.GetEnvironmentVariable(RuntimeApiVariable) is { Length: > 0 } api
            ? api
            : throw new InvalidOperationException($"{RuntimeApiVariable} is not set; this process is not running under AWS Lambda."),
        HandlerName = Environment.GetEnvironmentVariable(HandlerVariable) is { Length: > 0 } handler ? handler : null,
    };
}

/// <summary>
/// A custom runtime (provided.al2023) for <see cref="IFunctionHandler"/>s: one bootstrap binary can hold several
/// handlers, and <c>_HANDLER</c> picks the one this function runs. The loop is next → invoke → response or error,
/// until the process is asked to stop.
/// </summary>
public static class LambdaRuntime
{
    /// <summary>The errorType reported when <c>_HANDLER</c> names no handler in the binary.</summary>
    public const string HandlerNotFoundErrorType = "Runtime.HandlerNotFound";

    /// <summary>The errorType reported when creating the handlers failed.</summary>
    public const string InitFailedErrorType = "Runtime.InitFailed";

    /// <summary>The errorType reported when the response was larger than the Runtime API accepts.</summary>
    public const string ResponseTooLargeErrorType = "Function.ResponseSizeTooLarge";

    /// <summary>
    /// Runs the handler <c>_HANDLER</c> names against <c>AWS_LAMBDA_RUNTIME_API</c>, creating the handlers inside the
    /// runtime, so a failure while building them (missing configuration, an unreadable key) is reported to Lambda as an
    /// init error instead of a silent crash.
    /// </summary>
    /// <returns>The process exit code: 0 when stopped through <paramref name="cancellationToken"/>, 1 after an init error.</returns>
    public static async Task<int> RunAsync(
        Func<IEnumerable<IFunctionHandler>> createHandlers, LambdaRuntimeOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(createHandlers);
        ArgumentNullException.ThrowIfNull(options);
        using var client = RuntimeApiClient.ForEndpoint(options.RuntimeApi, options.HttpHandler);
        return await RunAsync(client, () => Select(createHandlers().ToList(), options.HandlerName), options, cancellationToken);
    }

    private static async Task<int> RunAsync(
        RuntimeApiClient client, Func<(IFunctionHandler? Handler, string? Problem)> select, LambdaRuntimeOptions options, CancellationToken cancellationToken)
    {
        IFunctionHandler handler;
        try
        {
            var found = select();
            if (found.Handler is null)
            {
                await client.SendInitErrorAsync(new RuntimeError(found.Problem!, HandlerNotFoundErrorType, null), cancellationToken);
                return 1;
            }

            handler = found.Handler;
        }
#pragma warning disable CA1031 // Any failure while building handlers is an init error that Lambda must hear about.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            await client.SendInitErrorAsync(ErrorFor(ex, InitFailedErrorType), cancellationToken);
            return 1;
        }

        var loop = new InvocationLoop(client, handler, options.DeadlineMargin);
        try
        {
            await loop.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Asked to stop (SIGTERM or a test): not an error.
        }

        return 0;
    }

    internal static RuntimeError ErrorFor(Exception exception, string errorType)
    {
        var stack = exception.StackTrace?
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new RuntimeError(exception.Message, errorType, stack is { Length: > 0 } ? stack : null);
    }

    private static (IFunctionHandler? Handler, string? Problem) Select(List<IFunctionHandler> handlers, string? name)
    {
        var names = string.Join(", ", handlers.Select(h => h.Name));
        if (string.IsNullOrEmpty(name))
        {
            return handlers.Count == 1
                ? (handlers[0], null)
                : (null, $"{LambdaRuntimeOptions.HandlerVariable} is not set and this binary holds {handlers.Count} handlers ({names}).");
        }

        var match = handlers.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.Ordinal));
        return match is not null
            ? (match, null)
            : (null, $"{LambdaRuntimeOptions.HandlerVariable} '{name}' names no handler in this binary; it holds: {names}.");
    }
}
