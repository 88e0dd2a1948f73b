using System.Text.Json;
using System.Text.Json.Serialization;
using Writeback.Core.Contracts;
using Writeback.Functions;
using Writeback.History;
using Writeback.Slo.Alerts;
using Writeback.Telemetry;

namespace Writeback.Slo;

/// <summary>
/// The scheduled SLO check (<c>writeback-slo-check</c>, every five minutes in template.yaml): evaluates every
/// dataset in the shipped contracts (after failing batches stuck in a non-final state), alerts on changes (log always, plus the host's sinks: SNS in the writers) and
/// purges history past its retention. The scheduled event's payload is ignored.
/// </summary>
public sealed class SloCheckFunction : IFunctionHandler, IAsyncDisposable
{
    public const string FunctionName = "writeback-slo-check";

    private readonly RunHistory _history;
    private readonly SloMonitor _monitor;
    private readonly IReadOnlyList<SloTarget> _targets;
    private readonly RunHistoryOptions _retention;
    private readonly StructuredLog _log;

    public SloCheckFunction(RunHistory history, IReadOnlyList<SloTarget> targets, IReadOnlyList<IAlertSink> sinks, SloOptions? options = null, RunHistoryOptions? retention = null, StructuredLog? log = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        _history = history;
        _targets = targets;
        _log = log ?? StructuredLog.None;
        _retention = retention ?? new RunHistoryOptions();
        _monitor = new SloMonitor(history, new SloEvaluator(history, options), sinks, _log, sweepStuckBatches: true);
    }

    /// <summary>
    /// From the host's environment (the optional knobs; <paramref name="get"/> reads it), over a run history and the
    /// target contracts folder the host owns, so the check shares the instance's one database connection.
    /// <paramref name="hostSinks"/> are the host's cloud sinks.
    /// </summary>
    public static SloCheckFunction FromEnvironment(HttpClient http, RunHistory history, string targetsDirectory, Func<string, string?> get, params ReadOnlySpan<IAlertSink?> hostSinks)
    {
        var log = StructuredLog.Stdout;
        return new SloCheckFunction(
            history,
            SloTarget.From(TargetCatalog.FromDirectory(targetsDirectory)),
            AlertSinks.FromEnvironment(http, log, get, hostSinks),
            SloOptions.FromEnvironment(get),
            RunHistoryOptions.FromEnvironment(get),
            log);
    }

    public string Name => FunctionName;

    public async Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken)
    {
        using var activity = WritebackActivity.Start(FunctionName, System.Diagnostics.ActivityKind.Server, null, null);
        var results = await _monitor.CheckAsync(_targets, cancellationToken);
        var purged = await _history.PurgeAsync(_retention.Retention, cancellationToken);
        foreach (var result in results)
        {
            _log.Info("slo evaluated", result.Evaluation.BatchId, result.Evaluation.TraceId,
                new("dataset", result.Evaluation.Dataset), new("state", result.Evaluation.State.Name()),
                new("detail", result.Evaluation.Detail), new("alert", result.Alert?.Kind));
        }

        var summary = new SloCheckSummary(
            [.. results.Select(r => new SloDatasetSummary(r.Evaluation.Dataset, r.Evaluation.State.Name(), r.Evaluation.Detail, r.Alert?.Kind, r.FailedSinks))],
            purged);
        return JsonSerializer.Serialize(summary, SloCheckJson.Default.SloCheckSummary);
    }

    public ValueTask DisposeAsync() => _history.DisposeAsync();
}

public sealed record SloCheckSummary(
    [property: JsonPropertyName("datasets")] IReadOnlyList<SloDatasetSummary> Datasets,
    [property: JsonPropertyName("purgedBatches")] int PurgedBatches);

public sealed record SloDatasetSummary(
    [property: JsonPropertyName("dataset")] string Dataset,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("alert")] string? Alert,
    [property: JsonPropertyName("failedSinks")] IReadOnlyList<string> FailedSinks);

[JsonSerializable(typeof(SloCheckSummary))]
internal sealed partial class SloCheckJson : JsonSerializerContext;
