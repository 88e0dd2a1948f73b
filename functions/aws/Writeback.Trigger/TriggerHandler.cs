using System.Text;
using System.Text.Json;
using Writeback.Core;
using Writeback.Core.Storage;
using Writeback.Functions;
using Writeback.Trigger.Auth;
using Writeback.Trigger.Events;
using Writeback.Trigger.Executions;
using Writeback.Trigger.Http;

namespace Writeback.Trigger;

public sealed record TriggerOptions
{
    /// <summary>This trigger's URL, the audience of the push subscription's tokens.</summary>
    public required string Audience { get; init; }

    /// <summary>The push subscription's service account.</summary>
    public required string PushServiceAccountEmail { get; init; }

    public required KnownDatasets Datasets { get; init; }

    /// <summary>Read the manifest's first byte before starting, so a dangling reference is rejected up front.</summary>
    public bool CheckManifest { get; init; } = true;

    public TimeSpan ManifestProbeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where manifests may be: the configured bucket and prefix in the cloud, the export folder locally.</summary>
    public required SourcePolicy Sources { get; init; }

    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The trigger Lambda behind a Function URL: turns the Function URL event (payload 2.0) into a
/// <see cref="TriggerRequest"/>, runs <see cref="PushTrigger"/>, and answers in the Function URL response shape.
/// </summary>
public sealed class TriggerHandler : IFunctionHandler
{
    public const string FunctionName = "writeback-trigger";

    private readonly PushTrigger _trigger;

    public TriggerHandler(PushTrigger trigger) => _trigger = trigger;

    /// <summary>Wires the trigger: the token validator decides where keys come from (Google's, or a local issuer's).</summary>
    public TriggerHandler(TriggerOptions options, IIdTokenValidator tokenValidator, IExecutionStarter executionStarter, HttpClient http, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _trigger = new PushTrigger(
            new PushTokenVerifier(
                tokenValidator,
                new PushAuthOptions { Audience = options.Audience, ServiceAccountEmail = options.PushServiceAccountEmail, ClockSkew = options.ClockSkew },
                time),
            new BatchEventReader(options.Datasets, options.Sources),
            options.CheckManifest ? new HttpManifestProbe(http, options.ManifestProbeTimeout) : null,
            executionStarter);
    }

    public string Name => FunctionName;

    public PushTrigger Trigger => _trigger;

    /// <summary>The cloud wiring, from the function's environment (see <see cref="TriggerEnvironment"/>).</summary>
    public static TriggerHandler FromEnvironment(HttpClient http, Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(http);
        var environment = TriggerEnvironment.Read(get, AppContext.BaseDirectory);
        var starter = new StepFunctionsExecutionStarter(http, StepFunctionsOptions.FromEnvironment(get, environment.StateMachineArn, environment.Region));
        return new TriggerHandler(
            new TriggerOptions
            {
                Audience = environment.Audience,
                PushServiceAccountEmail = environment.PushServiceAccountEmail,
                Datasets = environment.Datasets,
                Sources = environment.Sources,
            },
            new GoogleJwksIdTokenValidator(http),
            starter,
            http);
    }

    public async Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken)
    {
        TriggerResponse response;
        var request = ToRequest(payloadJson, out var problem, out var status);
        try
        {
            response = request is null
                ? TriggerResponse.Rejected(status, status == 413 ? "body_too_large" : "event_malformed", problem!)
                : await _trigger.HandleAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Our own failure (e.g. Google's keys could not be fetched): still a JSON answer, and a 5xx so Pub/Sub retries.
            await Console.Error.WriteLineAsync($"writeback-trigger: {e.GetType().Name}: {Echo.Brief(e.Message, 300)}");
            response = new TriggerResponse(503, new TriggerResponseBody { Outcome = "failed", Error = "internal_error", Message = "The trigger failed on its side; retry later." });
        }

        return JsonSerializer.Serialize(
            new FunctionUrlResponse
            {
                StatusCode = response.StatusCode,
                Headers = new Dictionary<string, string> { ["content-type"] = "application/json" },
                Body = response.BodyJson,
            },
            TriggerJson.Default.FunctionUrlResponse);
    }

    /// <summary>Reads a Function URL event (payload format 2.0); null with a reason when it is not one.</summary>
    public static TriggerRequest? ToRequest(string functionUrlEventJson, out string? problem) => ToRequest(functionUrlEventJson, out problem, out _);

    private static TriggerRequest? ToRequest(string functionUrlEventJson, out string? problem, out int status)
    {
        status = 400;
        FunctionUrlRequest? url;
        try
        {
            url = JsonSerializer.Deserialize(functionUrlEventJson, TriggerJson.Default.FunctionUrlRequest);
        }
        catch (JsonException ex)
        {
            problem = $"The invocation is not a Function URL event: {ex.Message}";
            return null;
        }

        if (url?.RequestContext?.Http?.Method is not { Length: > 0 } method)
        {
            problem = "The invocation is not a Function URL event (payload format 2.0): requestContext.http.method is missing.";
            return null;
        }

        // Checked before decoding; a base64 body carries 3/4 of its length in bytes, and a character takes at most 3.
        if (url.Body is { } raw && (url.IsBase64Encoded ? raw.Length / 4 * 3 > TriggerLimits.MaxBodyLength * 3 : raw.Length > TriggerLimits.MaxBodyLength))
        {
            status = 413;
            problem = $"The body is larger than a push envelope of a batch-ready event can be (at most {TriggerLimits.MaxBodyLength} characters).";
            return null;
        }

        string body;
        try
        {
            body = url.IsBase64Encoded && url.Body is not null ? Encoding.UTF8.GetString(Convert.FromBase64String(url.Body)) : url.Body ?? "";
        }
        catch (FormatException)
        {
            problem = "The Function URL event says its body is base64, but it is not.";
            return null;
        }

        problem = null;
        var headers = new Dictionary<string, string>(url.Headers ?? [], StringComparer.OrdinalIgnoreCase);
        return new TriggerRequest(method, headers, body, url.RawPath ?? "/");
    }
}
