using Writeback.Writers.Host;
using Writeback.Lambda.Runtime;

using var tracing = Writeback.Telemetry.TelemetrySetup.Start("writeback-writers");
// A missing secret or bad configuration is reported as an init error.
return await LambdaBootstrap.RunAsync(args, () => WriterHandlers.Names, options => WriterHandlers.Create(options.HandlerName, Environment.GetEnvironmentVariable));
