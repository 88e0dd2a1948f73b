using Writeback.Functions;

namespace Writeback.Lambda.Runtime;

/// <summary>next → invoke → response or error, one invocation at a time, as the Runtime API requires.</summary>
internal sealed class InvocationLoop(RuntimeApiClient client, IFunctionHandler handler, TimeSpan deadlineMargin)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var invocation = await client.NextInvocationAsync(cancellationToken);
            await InvokeOnceAsync(invocation, cancellationToken);
        }
    }

    private async Task InvokeOnceAsync(RuntimeInvocation invocation, CancellationToken stopping)
    {
        // The X-Ray SDK and our own outbound calls read the trace header from here, as on every Lambda runtime.
        Environment.SetEnvironmentVariable(LambdaRuntimeOptions.TraceIdVariable, invocation.TraceId);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        if (invocation.Deadline != DateTimeOffset.MaxValue)
        {
            var remaining = invocation.Deadline - DateTimeOffset.UtcNow - deadlineMargin;
            deadline.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        }

        var context = new InvocationContext(invocation.RequestId, invocation.Deadline, invocation.TraceId);
        string result;
        try
        {
            result = await handler.InvokeAsync(invocation.Payload, context, deadline.Token);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            throw;
        }
        catch (FunctionException ex)
        {
            await client.SendErrorAsync(invocation.RequestId, LambdaRuntime.ErrorFor(ex, ex.ErrorType), stopping);
            return;
        }
#pragma warning disable CA1031 // An unhandled exception is reported to Lambda under its type name, as the .NET runtime does.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var error = LambdaRuntime.ErrorFor(ex, ex.GetType().Name);
            if (ex is OperationCanceledException && deadline.IsCancellationRequested)
            {
                error = error with { ErrorMessage = $"The invocation was cancelled at its deadline ({invocation.Deadline:O}): {ex.Message}" };
            }

            await client.SendErrorAsync(invocation.RequestId, error, stopping);
            return;
        }

        if (!await client.SendResponseAsync(invocation.RequestId, result, stopping))
        {
            await client.SendErrorAsync(
                invocation.RequestId,
                new RuntimeError($"The response of {result.Length} characters is larger than Lambda accepts.", LambdaRuntime.ResponseTooLargeErrorType, null),
                stopping);
        }
    }
}
