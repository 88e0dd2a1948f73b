using System.Text.Json;
using Writeback.Core;
using Writeback.Trigger.Auth;
using Writeback.Trigger.Events;
using Writeback.Trigger.Executions;
using Writeback.Steps.Contract;
using Writeback.Trigger.Http;

namespace Writeback.Trigger;

/// <summary>An HTTP request as the trigger sees it; header names compare case-insensitively.</summary>
public sealed record TriggerRequest(string Method, IReadOnlyDictionary<string, string> Headers, string Body, string Path = "/");

/// <summary>An HTTP response: a status code and a JSON body.</summary>
public sealed record TriggerResponse(int StatusCode, TriggerResponseBody Body)
{
    public string BodyJson => JsonSerializer.Serialize(Body, TriggerJson.Default.TriggerResponseBody);

    /// <summary>A refusal: <c>{"outcome":"rejected","error":…,"message":…}</c>, whatever layer refused.</summary>
    public static TriggerResponse Rejected(int statusCode, string error, string message) =>
        new(statusCode, new TriggerResponseBody { Outcome = "rejected", Error = error, Message = message });
}

/// <summary>The sizes a push may have; a batch-ready event is well under 10 KiB even with a long signed URL.</summary>
public static class TriggerLimits
{
    /// <summary>The largest request body read (in UTF-16 characters, as the handler receives it).</summary>
    public const int MaxBodyLength = 64 * 1024;

    /// <summary>The most header bytes (names and values) the local host accepts; Function URLs have their own limit.</summary>
    public const int MaxHeaderBytes = 32 * 1024;
}

/// <summary>
/// The trigger's steps, independent of how the request arrived: verify the token → read and check the event and its
/// manifest's source → probe the manifest → start the batch's next attempt unless one is running or succeeded → say
/// what happened. Pub/Sub acks only 2xx, so a duplicate answers 2xx (it must stop redelivering), a bad push 4xx, and
/// our own failures 5xx (so it redelivers).
/// </summary>
public sealed class PushTrigger(PushTokenVerifier verifier, BatchEventReader reader, IManifestProbe? manifestProbe, IExecutionStarter starter)
{
    private readonly ExecutionAttempts _attempts = new(starter);

    public async Task<TriggerResponse> HandleAsync(TriggerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            if (request.Path is not ("/" or ""))
            {
                throw new TriggerRejectedException(404, "not_found", $"Pub/Sub pushes to '/'; there is nothing at '{Echo.Location(request.Path, 40)}'.");
            }

            if (!string.Equals(request.Method, "POST", StringComparison.OrdinalIgnoreCase))
            {
                throw new TriggerRejectedException(405, "method_not_allowed", $"Pub/Sub pushes with POST; this was {Echo.Brief(request.Method, 16)}.");
            }

            if (request.Body.Length > TriggerLimits.MaxBodyLength)
            {
                throw new TriggerRejectedException(413, "body_too_large",
                    $"The body has {request.Body.Length} characters; a push envelope of a batch-ready event has at most {TriggerLimits.MaxBodyLength}.");
            }

            request.Headers.TryGetValue("authorization", out var authorization);
            await verifier.VerifyAsync(authorization, cancellationToken);
            var ready = reader.Read(request.Body);
            var batch = ready.Event;

            if (manifestProbe is not null)
            {
                var probe = await manifestProbe.ProbeAsync(ready.Manifest, cancellationToken);
                if (probe.Reachability == ManifestReachability.Missing)
                {
                    throw TriggerRejectedException.Unprocessable("manifest_unreachable", $"The manifest {ready.Manifest.Describe} cannot be read: {probe.Detail}.");
                }

                if (probe.Reachability == ManifestReachability.Unavailable)
                {
                    return Failed(503, "manifest_unavailable", $"The manifest's storage did not answer ({probe.Detail}); retry later.", batch.BatchId);
                }
            }

            var traceparent = batch.Traceparent ?? (ready.Envelope.Message?.Attributes?.TryGetValue("traceparent", out var attribute) == true ? attribute : null);
            var input = new ExecutionInput(batch.ManifestUri, batch.BatchId, batch.Dataset, traceparent, batch.Partition).ToJson();
            var attempt = await _attempts.StartAsync(batch.BatchId, input, cancellationToken);
            var name = attempt.ExecutionName;
            return attempt.Outcome switch
            {
                AttemptOutcome.Started => Done(202, "started", $"Started execution {name} for batch {batch.BatchId}.", batch.BatchId, attempt),
                AttemptOutcome.Retried => Done(202, "retried",
                    $"Attempt {attempt.Attempt - 1} of batch {batch.BatchId} ended {attempt.PreviousState?.Name()}; started attempt {attempt.Attempt} as execution {name}.",
                    batch.BatchId, attempt),
                AttemptOutcome.AlreadyRunning => Done(200, "already_running",
                    $"Execution {name} is already running for batch {batch.BatchId}; nothing new was started.", batch.BatchId, attempt),
                AttemptOutcome.AlreadySucceeded => Done(200, "already_processed",
                    $"Execution {name} of batch {batch.BatchId} succeeded; the batch is not started again.", batch.BatchId, attempt),
                // Pub/Sub redelivers anything but 2xx; a dead-letter policy then parks the message for a person.
                _ => Failed(409, "attempts_exhausted",
                    $"Batch {batch.BatchId} has had {attempt.Attempt} attempts, the last ended {attempt.PreviousState?.Name()}; none is started. Fix the cause and publish a new export.",
                    batch.BatchId),
            };
        }
        catch (TriggerRejectedException rejection)
        {
            return TriggerResponse.Rejected(rejection.StatusCode, rejection.Code, rejection.Message);
        }
        catch (ExecutionStartException ex)
        {
            return Failed(ex.Transient ? 503 : 500, "start_failed", ex.Message, null);
        }
    }

    private static TriggerResponse Done(int status, string outcome, string message, string batchId, AttemptResult attempt) =>
        new(status, new TriggerResponseBody { Outcome = outcome, Message = message, BatchId = batchId, ExecutionName = attempt.ExecutionName, ExecutionArn = attempt.ExecutionArn });

    private static TriggerResponse Failed(int status, string error, string message, string? batchId) =>
        new(status, new TriggerResponseBody { Outcome = "failed", Error = error, Message = message, BatchId = batchId });
}
