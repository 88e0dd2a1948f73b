using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Writeback.Telemetry;

/// <summary>
/// Exports the "Writeback" spans: over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the exporter reads the
/// standard OTEL_* variables itself), to the console when <c>OTEL_TRACES_EXPORTER</c> names <c>console</c>. With
/// neither, nothing is set up and spans cost next to nothing (no listener samples them).
/// </summary>
public static class TelemetrySetup
{
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ExporterVariable = "OTEL_TRACES_EXPORTER";

    /// <summary>Starts exporting for this process; dispose the result on shutdown to flush. Null when not configured.</summary>
    public static TracerProvider? Start(string serviceName)
    {
        var otlp = Environment.GetEnvironmentVariable(OtlpEndpointVariable) is { Length: > 0 };
        var console = (Environment.GetEnvironmentVariable(ExporterVariable) ?? "")
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Contains("console", StringComparer.OrdinalIgnoreCase);
        if (!otlp && !console)
        {
            return null;
        }

        var builder = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(serviceName))
            .AddSource(WritebackActivity.SourceName);
        if (otlp)
        {
            builder.AddOtlpExporter();
        }

        if (console)
        {
            builder.AddConsoleExporter();
        }

        return builder.Build();
    }
}
