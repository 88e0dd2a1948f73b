using System.Text.Json;
using Writeback.Functions;
using Writeback.Telemetry;
using Writeback.Trigger.Http;

namespace Writeback.Trigger.Host;

/// <summary>
/// Writes one JSON log line per push the trigger decides on: accepted (an execution started), duplicate (already running
/// or already done), rejected (4xx: Pub/Sub redelivers, then dead-letters) or failed (5xx: our side; Pub/Sub retries),
/// with the HTTP status and the reason code. The Function URL's 4xx/5xx alarms say that something went wrong; this line
/// says what. It never logs the response message, which may quote the manifest URL, whose query string is a signature.
/// </summary>
public sealed class DecisionLoggingHandler(IFunctionHandler inner, StructuredLog log) : IFunctionHandler
{
    /// <summary>Batch ids are execution names (at most 80 characters); a longer value is cut, never logged whole.</summary>
    public const int MaxBatchIdLength = 80;

    public string Name => inner.Name;

    public async Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        string response;
        try
        {
            response = await inner.InvokeAsync(payloadJson, context, cancellationToken);
        }
        catch (Exception e)
        {
            // The runtime reports it and the URL answers 502: Pub/Sub retries. The type only; messages may quote input.
            log.Error("trigger decision", null, null,
                new("decision", "failed"), new("status", 502), new("code", "unhandled"), new("error", e.GetType().Name), new("requestId", context.RequestId));
            throw;
        }

        var (status, body) = Read(response);
        var decision = body?.Outcome switch
        {
            "started" or "retried" => "accepted",
            "already_running" or "already_processed" => "duplicate",
            "rejected" => "rejected",
            _ => status >= 500 ? "failed" : status >= 400 ? "rejected" : "unknown",
        };
        var level = decision switch { "accepted" or "duplicate" => "info", "rejected" => "warn", _ => "error" };
        log.Write(level, "trigger decision", Truncate(body?.BatchId), null,
        [
            new("decision", decision), new("status", status), new("outcome", body?.Outcome), new("code", body?.Error),
            new("executionName", Truncate(body?.ExecutionName)), new("requestId", context.RequestId),
        ]);
        return response;
    }

    private static (int Status, TriggerResponseBody? Body) Read(string response)
    {
        try
        {
            var url = JsonSerializer.Deserialize(response, TriggerJson.Default.FunctionUrlResponse);
            if (url is null)
            {
                return (0, null);
            }

            var body = string.IsNullOrEmpty(url.Body) ? null : JsonSerializer.Deserialize(url.Body, TriggerJson.Default.TriggerResponseBody);
            return (url.StatusCode, body);
        }
        catch (JsonException)
        {
            return (0, null);
        }
    }

    private static string? Truncate(string? value) =>
        value is { Length: > MaxBatchIdLength } ? value[..MaxBatchIdLength] : value;
}
