using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Writeback.Functions;
using Writeback.History;
using Writeback.History.Recording;
using Writeback.Observability.Tests.Support;
using Writeback.Steps.Contract;
using Writeback.Telemetry;
using Writeback.Testing;

namespace Writeback.Observability.Tests.Telemetry;

public sealed class TracingTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string Parent = "00f067aa0ba902b7";

    private readonly List<Activity> _spans = [];
    private readonly ActivityListener _listener = new();

    [Fact]
    public async Task Every_step_continues_the_trace_from_the_event_and_logs_json_lines_with_batch_and_trace_ids()
    {
        _listener.ShouldListenTo = source => source.Name == WritebackActivity.SourceName;
        _listener.Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded;
        _listener.ActivityStopped = span => { lock (_spans) { _spans.Add(span); } };
        ActivitySource.AddActivityListener(_listener);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 19, 0, 0, TimeSpan.Zero));
        await using var history = new RunHistory(database.ConnectionString, time);
        var log = new StringWriter();
        var structured = new StructuredLog(log, time);
        var context = InvocationContext.Local(TimeSpan.FromMinutes(1));

        await new RecordingFunctionHandler(new FakeStep(StepNames.Prepare, time, TimeSpan.FromSeconds(1), _ => """{"action":"load","dataset":"trace_ds"}"""), history, structured)
            .InvokeAsync($$"""{"batchId":"trace-1","manifestUri":"m","dataset":"trace_ds","traceparent":"00-{{TraceId}}-{{Parent}}-01"}""", context, CancellationToken.None);
        // Later steps get no traceparent in their payload: the batch's trace comes from history.
        await new RecordingFunctionHandler(new FakeStep(StepNames.Verify, time, TimeSpan.FromSeconds(1), _ => """{"rows":5}"""), history, structured)
            .InvokeAsync("""{"batchId":"trace-1","manifestUri":"m"}""", context, CancellationToken.None);

        var spans = _spans.Where(s => s.GetTagItem("writeback.batch_id") as string == "trace-1").ToList();
        Assert.Equal([StepNames.Prepare, StepNames.Verify], spans.Select(s => s.OperationName));
        Assert.All(spans, s => Assert.Equal(TraceId, s.TraceId.ToHexString()));
        Assert.Equal(Parent, spans[0].ParentSpanId.ToHexString());
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(4, lines.Count);
        Assert.All(lines, l => Assert.Equal(("trace-1", TraceId), (l.GetProperty("batchId").GetString(), l.GetProperty("traceId").GetString())));
        Assert.Equal(["step started", "step succeeded", "step started", "step succeeded"], lines.Select(l => l.GetProperty("message").GetString()));
    }

    [Fact]
    public void A_traceparent_yields_its_trace_id_and_a_malformed_one_yields_none()
    {
        Assert.Equal(TraceId, Traceparent.TraceId($"00-{TraceId}-{Parent}-01"));
        Assert.Null(Traceparent.TraceId("not-a-traceparent"));
        Assert.Null(Traceparent.TraceId(null));
    }

    public void Dispose() => _listener.Dispose();
}
