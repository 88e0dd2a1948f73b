namespace Writeback.StepFunctions;

/// <summary>
/// How the engine calls a Lambda function: JSON text in, JSON text out, exactly as across the Lambda Invoke API.
/// A handled function error comes back as <see cref="LambdaInvocationResult.Failure"/>; anything thrown is a crash
/// and surfaces as <c>Lambda.Unknown</c>.
/// </summary>
public interface ILambdaInvoker
{
    Task<LambdaInvocationResult> InvokeAsync(string functionName, string payloadJson, CancellationToken cancellationToken);
}

/// <summary>A function's response (<see cref="PayloadJson"/>) or its error (<see cref="ErrorType"/>, <see cref="ErrorMessage"/>).</summary>
public sealed record LambdaInvocationResult(string? PayloadJson, string? ErrorType, string? ErrorMessage)
{
    public bool IsError => ErrorType is not null;

    public static LambdaInvocationResult Success(string payloadJson) => new(payloadJson, null, null);

    public static LambdaInvocationResult Failure(string errorType, string? errorMessage) => new(null, errorType, errorMessage);
}

/// <summary>Binds function names to delegates; what tests and the benchmark use instead of real handlers.</summary>
public sealed class DelegateLambdaInvoker : ILambdaInvoker
{
    private readonly Dictionary<string, Func<string, CancellationToken, Task<LambdaInvocationResult>>> _functions = new(StringComparer.Ordinal);

    public DelegateLambdaInvoker Add(string functionName, Func<string, CancellationToken, Task<LambdaInvocationResult>> function)
    {
        _functions[functionName] = function;
        return this;
    }

    public DelegateLambdaInvoker Add(string functionName, Func<string, string> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Add(functionName, (payload, _) => Task.FromResult(LambdaInvocationResult.Success(function(payload))));
    }

    public Task<LambdaInvocationResult> InvokeAsync(string functionName, string payloadJson, CancellationToken cancellationToken) =>
        _functions.TryGetValue(functionName, out var function)
            ? function(payloadJson, cancellationToken)
            : Task.FromResult(LambdaInvocationResult.Failure(
                "Lambda.ResourceNotFoundException", $"Function not found: {functionName}"));
}
