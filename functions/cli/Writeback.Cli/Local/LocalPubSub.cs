using Writeback.Aggregate;
using Writeback.Aggregate.Cloud;
using Writeback.Trigger.Local;

namespace Writeback.Cli.Local;

/// <summary>Which Pub/Sub the local path uses (WRITEBACK_PUBSUB): the emulator when installed, or as asked.</summary>
internal enum PubSubMode
{
    /// <summary>Google's emulator when it is installed, else the built-in push.</summary>
    Auto,

    /// <summary>Google's emulator, or fail.</summary>
    Emulator,

    /// <summary>The built-in push: the aggregate POSTs the envelope straight to the trigger.</summary>
    Builtin,
}

internal sealed record LocalPubSubOptions
{
    public const string ModeVariable = "WRITEBACK_PUBSUB";

    public PubSubMode Mode { get; init; } = PubSubMode.Auto;

    /// <summary>An emulator already running (tests share one per class); null starts one when the mode allows.</summary>
    public PubSubEmulator? Emulator { get; init; }

    public string ProjectId { get; init; } = PubSubEmulatorTopic.DefaultProject;

    public string Topic { get; init; } = PubSubEmulatorTopic.DefaultTopic;

    /// <summary>The mode in WRITEBACK_PUBSUB: <c>emulator</c>, <c>builtin</c>, or unset for auto.</summary>
    public static PubSubMode ModeFrom(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return environment(ModeVariable)?.Trim().ToUpperInvariant() switch
        {
            null or "" or "AUTO" => PubSubMode.Auto,
            "EMULATOR" => PubSubMode.Emulator,
            "BUILTIN" => PubSubMode.Builtin,
            var other => throw new PubSubEmulatorException($"{ModeVariable} must be emulator, builtin or auto, not '{other.ToLowerInvariant()}'"),
        };
    }
}

/// <summary>
/// How batch-ready events travel on this machine, decided once per serve or demo. Through Google's Pub/Sub emulator
/// when it is installed: the topic and a push subscription are created on it, the aggregate publishes with the cloud's
/// REST publisher (pointed there by PUBSUB_EMULATOR_HOST), and the emulator pushes the real envelope through
/// <see cref="PushTokenHop"/> (which adds the OIDC token the emulator cannot sign) to the trigger, retrying what the
/// trigger does not acknowledge. Without the emulator, the built-in push: the aggregate POSTs the envelope straight to
/// the trigger with a locally minted token.
/// </summary>
internal sealed class LocalPubSub : IAsyncDisposable
{
    /// <summary>As in infra/pubsub.tf: for push, also the HTTP timeout of each delivery.</summary>
    public const int AckDeadlineSeconds = 30;

    /// <summary>Shorter than the cloud's 10 s–600 s: a local hiccup is retried within a second.</summary>
    public static readonly RetryPolicy Retry = new("1s", "10s");

    /// <summary>Several redeliveries at the retry policy's backoff.</summary>
    private static readonly TimeSpan ExecutionWait = TimeSpan.FromSeconds(60);

    private readonly PubSubEmulator? _ownedEmulator;
    private readonly PushTokenHop? _hop;

    private LocalPubSub(Uri triggerUrl, PubSubEmulator? ownedEmulator, PushTokenHop? hop, IReadOnlyDictionary<string, string> publisherEnvironment, string description)
    {
        TriggerUrl = triggerUrl;
        _ownedEmulator = ownedEmulator;
        _hop = hop;
        PublisherEnvironment = publisherEnvironment;
        Description = description;
        if (hop is not null)
        {
            hop.Delivered += delivery =>
            {
                if (delivery.StatusCode is < 200 or > 299)
                {
                    LastRefusal = delivery;
                }

                Delivered?.Invoke(delivery);
            };
        }
    }

    public Uri TriggerUrl { get; }

    /// <summary>PUBSUB_EMULATOR_HOST, PUBSUB_PROJECT_ID and WRITEBACK_TOPIC for a publisher; empty for the built-in push.</summary>
    public IReadOnlyDictionary<string, string> PublisherEnvironment { get; }

    public bool UsesEmulator => PublisherEnvironment.Count > 0;

    /// <summary>One line saying which Pub/Sub is in use, and why.</summary>
    public string Description { get; }

    /// <summary>The trigger's latest non-2xx answer to a push from the emulator, which it will retry.</summary>
    public PushDelivery? LastRefusal { get; private set; }

    /// <summary>The hop: every push the emulator made and what the trigger answered.</summary>
    public event Action<PushDelivery>? Delivered;

    /// <summary>
    /// Starts the emulator when the mode allows and none was handed in. Slow (seconds of JVM start), so callers start it
    /// beside the AWS side and pass the result to <see cref="ConnectAsync"/>.
    /// </summary>
    public static async Task<(PubSubEmulator? Emulator, string? Absent)> StartEmulatorAsync(LocalPubSubOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Mode == PubSubMode.Builtin)
        {
            return (null, $"{LocalPubSubOptions.ModeVariable}=builtin");
        }

        if (options.Emulator is { } shared)
        {
            return (shared, null);
        }

        if (PubSubEmulator.Locate(out var reason) is not { } gcloud)
        {
            return options.Mode == PubSubMode.Emulator
                ? throw new PubSubEmulatorException($"{LocalPubSubOptions.ModeVariable}=emulator, but {reason}")
                : (null, reason);
        }

        return (await PubSubEmulator.StartAsync(gcloud, cancellationToken), null);
    }

    /// <summary>Runs <paramref name="start"/> while the emulator starts; when it fails, an emulator started for it is stopped too.</summary>
    public static async Task<T> BesideEmulatorAsync<T>(Task<(PubSubEmulator? Emulator, string? Absent)> emulator, LocalPubSubOptions options, Func<Task<T>> start)
    {
        ArgumentNullException.ThrowIfNull(emulator);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(start);
        try
        {
            return await start();
        }
        catch
        {
            try
            {
                if ((await emulator).Emulator is { } started && !ReferenceEquals(started, options.Emulator))
                {
                    await started.DisposeAsync();
                }
            }
            catch (Exception e) when (e is PubSubEmulatorException or OperationCanceledException or System.ComponentModel.Win32Exception)
            {
                // The emulator's own failure says less than the one being thrown.
            }

            throw;
        }
    }

    /// <summary>
    /// Wires the topic, the hop and the push subscription to <paramref name="aws"/>'s trigger. Takes ownership of an
    /// emulator that <see cref="StartEmulatorAsync"/> started (not of one handed in through the options).
    /// </summary>
    public static async Task<LocalPubSub> ConnectAsync(
        LocalPubSubOptions options, (PubSubEmulator? Emulator, string? Absent) started, Uri triggerUrl, LocalOidcIssuer issuer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(triggerUrl);
        var owned = ReferenceEquals(started.Emulator, options.Emulator) ? null : started.Emulator;
        if (started.Emulator is not { } emulator)
        {
            return new LocalPubSub(triggerUrl, null, null, new Dictionary<string, string>(),
                $"Pub/Sub: the built-in push straight to the trigger ({started.Absent}; Google's emulator would be used otherwise)");
        }

        PushTokenHop? hop = null;
        try
        {
            hop = await PushTokenHop.StartAsync(
                new PushTokenHopOptions { Target = triggerUrl, Audience = triggerUrl.ToString(), ServiceAccountEmail = LocalAwsSide.PushServiceAccount, Issuer = issuer },
                cancellationToken);
            await emulator.CreateTopicAsync(options.ProjectId, options.Topic, cancellationToken);
            await emulator.CreatePushSubscriptionAsync(
                options.ProjectId,
                options.Topic + "-push",
                new PushSubscription(
                    $"projects/{options.ProjectId}/topics/{options.Topic}",
                    // The token settings are Google's; the emulator keeps them unused and the hop mints to the same.
                    new PushConfig(hop.Url.ToString(), new OidcToken(LocalAwsSide.PushServiceAccount, triggerUrl.ToString())),
                    AckDeadlineSeconds,
                    Retry),
                cancellationToken);
        }
        catch
        {
            if (hop is not null)
            {
                await hop.DisposeAsync();
            }

            if (owned is not null)
            {
                await owned.DisposeAsync();
            }

            throw;
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [PubSubEmulatorTopic.HostVariable] = emulator.HostPort,
            [PubSubEmulatorTopic.ProjectVariable] = options.ProjectId,
            ["WRITEBACK_TOPIC"] = options.Topic,
        };
        var startup = owned is null ? "" : $", started in {emulator.StartTime.TotalSeconds:0.0} s";
        return new LocalPubSub(triggerUrl, owned, hop, environment,
            $"Pub/Sub: Google's emulator at {emulator.HostPort}{startup}; topic {options.Topic} → push via the local token hop {hop.Url} → trigger");
    }

    /// <summary>The aggregate's publishing options for this Pub/Sub: the emulator's topic, or the trigger's URL.</summary>
    public LocalAggregateOptions Publishing(LocalAggregateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var topic = PubSubEmulatorTopic.FromEnvironment(PublisherEnvironment.GetValueOrDefault);
        return options with { EmulatorTopic = topic, PushUrl = topic is null ? TriggerUrl : null, PushAudience = TriggerUrl.ToString() };
    }

    /// <summary>
    /// The execution a just-published batch starts. The built-in push has started it before the publish returned; the
    /// emulator pushes a moment later, and again after a 5xx. A 4xx answer will not get better by retrying, so it ends
    /// the wait at once with the trigger's words.
    /// </summary>
    public async Task<Writeback.StepFunctions.Execution> WaitForExecutionAsync(LocalAwsSide aws, string name, string batchId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aws);
        var found = new TaskCompletionSource<Writeback.StepFunctions.Execution>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Started(Writeback.StepFunctions.Execution execution)
        {
            if (execution.Name == name)
            {
                found.TrySetResult(execution);
            }
        }

        void Answered(PushDelivery delivery)
        {
            if (delivery.StatusCode is >= 400 and < 500)
            {
                found.TrySetException(new InvalidOperationException($"The trigger refused the push of batch {batchId}: {delivery.StatusCode} {delivery.Body}"));
            }
        }

        aws.Engine.ExecutionStarted += Started;
        Delivered += Answered;
        try
        {
            if (aws.FindExecution(name) is { } existing)
            {
                return existing;
            }

            return await found.Task.WaitAsync(ExecutionWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            var last = LastRefusal is { } refusal ? $"; the trigger last answered {refusal.StatusCode}: {refusal.Body}" : "";
            throw new InvalidOperationException($"No execution named {name} started within {ExecutionWait.TotalSeconds:0} s of publishing batch {batchId}{last}.");
        }
        finally
        {
            aws.Engine.ExecutionStarted -= Started;
            Delivered -= Answered;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_hop is not null)
        {
            await _hop.DisposeAsync();
        }

        if (_ownedEmulator is not null)
        {
            await _ownedEmulator.DisposeAsync();
        }
    }
}
