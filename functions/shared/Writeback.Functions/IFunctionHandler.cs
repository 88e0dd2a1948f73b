namespace Writeback.Functions;

/// <summary>
/// One AWS Lambda function's code: JSON in, JSON out. The same handler runs under the Lambda Runtime API
/// client in the cloud and behind the local Step Functions engine, always across a JSON boundary.
/// </summary>
public interface IFunctionHandler
{
    /// <summary>The function's name, as the state machine and template.yaml know it (e.g. <c>writeback-prepare</c>).</summary>
    string Name { get; }

    Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken);
}

/// <summary>What the Lambda runtime tells a handler about the current invocation.</summary>
public sealed record InvocationContext(string RequestId, DateTimeOffset Deadline, string? TraceId)
{
    public static InvocationContext Local(TimeSpan timeout, string? traceId = null) =>
        new(Guid.NewGuid().ToString(), DateTimeOffset.UtcNow + timeout, traceId);
}

/// <summary>
/// A failure the handler reports on purpose. <see cref="ErrorType"/> becomes the Lambda <c>errorType</c> and so
/// the error name that the state machine's Retry and Catch match on. Any other exception is an unhandled crash.
/// </summary>
public sealed class FunctionException : Exception
{
    public FunctionException(string errorType, string message, Exception? innerException = null)
        : base(message, innerException) => ErrorType = errorType;

    public FunctionException() : this("Writeback.Error", "The function failed.") { }

    public FunctionException(string message) : this("Writeback.Error", message) { }

    public FunctionException(string message, Exception innerException) : this("Writeback.Error", message, innerException) { }

    public string ErrorType { get; }
}
