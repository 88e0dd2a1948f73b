using System.Runtime.InteropServices;
using Writeback.Functions.Writers;
using Writeback.Lambda.Runtime;

// `bootstrap --list-handlers` prints the handler names this binary hosts: the CI check that every Handler in
// template.yaml exists runs it, without a Runtime API or a database.
if (args is ["--list-handlers"])
{
    foreach (var name in WriterHandlers.Names)
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
using var tracing = Writeback.Observability.Telemetry.TelemetrySetup.Start("writeback-writers");
// Handlers are created inside the runtime so a missing secret or bad configuration is reported as an init error.
return await LambdaRuntime.RunAsync(() => WriterHandlers.Create(options.HandlerName), options, stopping.Token);
