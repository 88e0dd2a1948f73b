using System.Runtime.InteropServices;
using Writeback.Functions;

namespace Writeback.Lambda.Runtime;

/// <summary>The <c>Main</c> of a custom-runtime <c>bootstrap</c> that hosts one or more handlers.</summary>
public static class LambdaBootstrap
{
    /// <param name="args">The process arguments; <c>--list-handlers</c> prints the hosted names and exits (the CI
    /// check that every Handler in template.yaml exists runs it, without a Runtime API or a database).</param>
    /// <param name="handlerNames">The names the binary hosts.</param>
    /// <param name="createHandlers">Called inside the runtime, so missing configuration becomes a Lambda init error.</param>
    public static async Task<int> RunAsync(string[] args, Func<IEnumerable<string>> handlerNames, Func<LambdaRuntimeOptions, IEnumerable<IFunctionHandler>> createHandlers)
    {
        ArgumentNullException.ThrowIfNull(handlerNames);
        ArgumentNullException.ThrowIfNull(createHandlers);
        if (args is ["--list-handlers"])
        {
            foreach (var name in handlerNames())
            {
                Console.WriteLine(name);
            }

            return 0;
        }

        using var stopping = new CancellationTokenSource();
        // Lambda sends SIGTERM before it shuts a sandbox down; stop polling for work instead of dying mid-request.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopping.Cancel();
        });

        var options = LambdaRuntimeOptions.FromEnvironment();
        return await LambdaRuntime.RunAsync(() => createHandlers(options), options, stopping.Token);
    }
}
