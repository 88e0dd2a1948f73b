using System.Text;
using System.Text.Json;
using Writeback.Lambda;
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

    /// <summary>Accept <c>http://</c> manifests on loopback; for local runs and tests only.</summary>
    public bool AllowLoopbackHttpManifests { get; init; }

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
            new BatchEventReader(options.Datasets, options.AllowLoopbackHttpManifests),
            options.CheckManifest ? new HttpManifestProbe(http, options.ManifestProbeTimeout) : null,
            executionStarter);
    }

    public string Name => FunctionName;

    public PushTrigger Trigger => _trigger;

    /// <summary>
    /// The cloud wiring, from the function's environment: WRITEBACK_TRIGGER_AUDIENCE, WRITEBACK_PUSH_SERVICE_ACCOUNT,
    /// WRITEBACK_STATE_MACHINE_ARN, AWS_REGION, and WRITEBACK_DATASETS (comma-separated) or WRITEBACK_TARGETS_DIR
    /// (default: the <c>targets</c> folder next to the binary).
    /// </summary>
    public static TriggerHandler FromEnvironment(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var datasets = Environment.GetEnvironmentVariable("WRITEBACK_DATASETS") is { Length: > 0 } list
            ? KnownDatasets.Of(list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            : KnownDatasets.FromTargetsDirectory(Environment.GetEnvironmentVariable("WRITEBACK_TARGETS_DIR") is { Length: > 0 } dir
                ? dir
                : Path.Combine(AppContext.BaseDirectory, "targets"));
        var audience = Required("WRITEBACK_TRIGGER_AUDIENCE");
        var starter = new StepFunctionsExecutionStarter(http, new StepFunctionsOptions
        {
            StateMachineArn = Required("WRITEBACK_STATE_MACHINE_ARN"),
            Region = Required("AWS_REGION"),
        });
        return new TriggerHandler(
            new TriggerOptions { Audience = audience, PushServiceAccountEmail = Required("WRITEBACK_PUSH_SERVICE_ACCOUNT"), Datasets = datasets },
            new GoogleJwksIdTokenValidator(http),
            starter,
            http);
    }

    public async Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken)
    {
        TriggerResponse response;
        var request = ToRequest(payloadJson, out var problem);
        response = request is null
            ? new TriggerResponse(400, new TriggerResponseBody { Outcome = "rejected", Code = "event_malformed", Message = problem! })
            : await _trigger.HandleAsync(request, cancellationToken);

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
    public static TriggerRequest? ToRequest(string functionUrlEventJson, out string? problem)
    {
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
        return new TriggerRequest(method, headers, body);
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set; the trigger cannot start without it.");
}
