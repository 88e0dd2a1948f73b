using System.Text.Json.Serialization;

namespace Writeback.Slo.Alerts;

/// <summary>What kind of news an alert is.</summary>
public static class AlertKind
{
    /// <summary>Nothing arrived by the lead time, or the deadline passed without the batch.</summary>
    public const string Delay = "delay";

    public const string PredictedLate = "predicted-late";

    public const string Failure = "failure";

    /// <summary>Back on time after any of the above.</summary>
    public const string Recovery = "recovery";

    /// <summary>A batch was applied without the rows its target's policy let it reject.</summary>
    public const string RejectedRows = "rejected-rows";

    /// <summary>An operator put an earlier batch of a partition back (./writeback rollback).</summary>
    public const string Rollback = "rollback";

    public static string For(SloState state) => state switch
    {
        SloState.AtRisk or SloState.Late => Delay,
        SloState.PredictedLate => PredictedLate,
        SloState.Failed => Failure,
        _ => Recovery,
    };
}

/// <summary>One state change worth telling someone about.</summary>
public sealed record Alert
{
    public required string Kind { get; init; }

    public required string Dataset { get; init; }

    public required SloState State { get; init; }

    public SloState? PreviousState { get; init; }

    public required DateOnly BusinessDate { get; init; }

    public required DateTimeOffset Deadline { get; init; }

    public string? BatchId { get; init; }

    public string? TraceId { get; init; }

    public string? Cause { get; init; }

    public required string Message { get; init; }

    public required DateTimeOffset RaisedAt { get; init; }

    /// <summary>A short line for email subjects (SNS caps them at 100 characters).</summary>
    public string Subject => $"Writeback {Kind}: {Dataset} ({State.Name()})";

    /// <summary>How many rows of an applied batch were set aside; where they are, never what they held.</summary>
    public static Alert ForRejectedRows(SloEvaluation evaluation, string batchId, long rejected, long? rows, string? traceId)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        var of = rows is { } total ? $" of {total:N0}" : "";
        var trace = traceId is { } t ? $" [trace {t}]" : "";
        return new Alert
        {
            Kind = AlertKind.RejectedRows,
            Dataset = evaluation.Dataset,
            State = evaluation.State,
            BusinessDate = evaluation.BusinessDate,
            Deadline = evaluation.Deadline,
            BatchId = batchId,
            TraceId = traceId,
            Message = $"REJECTED ROWS: {evaluation.Dataset} — batch {batchId} was applied without {rejected:N0}{of} rows that failed type, null or key checks; they are listed in writeback.rejects{trace}",
            RaisedAt = evaluation.EvaluatedAt,
        };
    }

    public static Alert From(SloEvaluation evaluation, SloState? previous)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        var kind = AlertKind.For(evaluation.State);
        var headline = kind switch
        {
            AlertKind.Failure => $"FAILED: {evaluation.Dataset}",
            AlertKind.PredictedLate => $"PREDICTED LATE: {evaluation.Dataset}",
            AlertKind.Delay when evaluation.State == SloState.Late => $"LATE: {evaluation.Dataset}",
            AlertKind.Delay => $"AT RISK: {evaluation.Dataset}",
            _ => $"RECOVERED: {evaluation.Dataset} is back on time ({evaluation.State.Name()}, was {previous?.Name()})",
        };
        var trace = evaluation.TraceId is { } t ? $" [trace {t}]" : "";
        return new Alert
        {
            Kind = kind,
            Dataset = evaluation.Dataset,
            State = evaluation.State,
            PreviousState = previous,
            BusinessDate = evaluation.BusinessDate,
            Deadline = evaluation.Deadline,
            BatchId = evaluation.BatchId,
            TraceId = evaluation.TraceId,
            Cause = evaluation.State == SloState.Failed ? evaluation.Cause : null,
            Message = $"{headline} — {evaluation.Detail}{trace}",
            RaisedAt = evaluation.EvaluatedAt,
        };
    }
}

/// <summary>Somewhere alerts go: a chat webhook, an SNS topic, the log.</summary>
public interface IAlertSink
{
    string Name { get; }

    /// <exception cref="AlertDeliveryException">The sink refused or could not be reached.</exception>
    Task SendAsync(Alert alert, CancellationToken cancellationToken);
}

public sealed class AlertDeliveryException : Exception
{
    public AlertDeliveryException() { }

    public AlertDeliveryException(string message) : base(message) { }

    public AlertDeliveryException(string message, Exception innerException) : base(message, innerException) { }
}

internal sealed record SlackMessage([property: JsonPropertyName("text")] string Text);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SlackMessage))]
internal sealed partial class AlertJson : JsonSerializerContext;
