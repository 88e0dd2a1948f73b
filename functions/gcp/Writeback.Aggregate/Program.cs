using Writeback.Aggregate.Http;
using Writeback.Telemetry;

// Spans go to OTLP or the console when the standard OTEL_* variables say so; otherwise nothing is exported.
using var tracing = TelemetrySetup.Start("writeback-aggregate");
var app = AggregateFunction.Build(args);
app.Run();
