using System.Diagnostics;

namespace Writeback.Telemetry;

/// <summary>
/// W3C trace context (<c>00-{trace id}-{span id}-{flags}</c>): the aggregate function starts the trace, the
/// batch-ready event carries it as the <c>traceparent</c> attribute, the execution input and every step continue it.
/// </summary>
public static class Traceparent
{
    public static bool TryParse(string? traceparent, out ActivityContext context)
    {
        context = default;
        return !string.IsNullOrWhiteSpace(traceparent) && ActivityContext.TryParse(traceparent, null, out context);
    }

    /// <summary>The 32-hex-digit trace id of a traceparent, or null when it is missing or malformed.</summary>
    public static string? TraceId(string? traceparent) =>
        TryParse(traceparent, out var context) ? context.TraceId.ToHexString() : null;

    public static string Format(ActivityContext context) =>
        $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{((context.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? "01" : "00")}";

    /// <summary>The traceparent to hand downstream: the current span's when there is one, else the one received.</summary>
    public static string? Current(string? received = null) =>
        Activity.Current is { } activity && activity.IdFormat == ActivityIdFormat.W3C ? Format(activity.Context) : received;
}
