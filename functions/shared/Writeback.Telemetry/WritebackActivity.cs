using System.Diagnostics;

namespace Writeback.Telemetry;

/// <summary>The project's spans: one <see cref="ActivitySource"/> named "Writeback" for every function.</summary>
public static class WritebackActivity
{
    public const string SourceName = "Writeback";

    public static ActivitySource Source { get; } = new(SourceName);

    /// <summary>A span continuing the trace in <paramref name="traceparent"/>, or a new trace when there is none.</summary>
    public static Activity? Start(string name, ActivityKind kind, string? traceparent, string? batchId)
    {
        var activity = Traceparent.TryParse(traceparent, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);
        if (activity is not null && batchId is not null)
        {
            activity.SetTag("writeback.batch_id", batchId);
        }

        return activity;
    }
}
