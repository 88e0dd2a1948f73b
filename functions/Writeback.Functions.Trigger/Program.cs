using System.Runtime.InteropServices;
using Writeback.Functions.Trigger;
using Writeback.Lambda.Runtime;

// `bootstrap --list-handlers` prints the handler names this binary hosts (the CI check for template.yaml's Handler).
if (args is ["--list-handlers"])
{
    foreach (var name in TriggerHandlers.Names)
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
// Created inside the runtime: missing configuration (state machine ARN, audience) is reported as an init error.
return await LambdaRuntime.RunAsync(TriggerHandlers.Create, options, stopping.Token);
