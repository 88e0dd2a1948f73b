namespace Writeback.Aggregate.Cloud;

/// <summary>
/// A topic on Google's Pub/Sub emulator. Found the way Google's client libraries find the emulator: when
/// <c>PUBSUB_EMULATOR_HOST</c> names a host:port, every Pub/Sub call goes there over plain http and without credentials
/// (the emulator checks none).
/// </summary>
public sealed record PubSubEmulatorTopic(Uri Emulator, string ProjectId, string Topic)
{
    public const string HostVariable = "PUBSUB_EMULATOR_HOST";

    /// <summary>The project id <c>gcloud beta emulators pubsub env-init</c> exports beside the host.</summary>
    public const string ProjectVariable = "PUBSUB_PROJECT_ID";

    public const string DefaultProject = "writeback-local";

    public const string DefaultTopic = "batch-ready";

    /// <summary>The emulator's base URI for a <c>host:port</c>.</summary>
    public static Uri BaseUri(string hostPort) => new($"http://{hostPort}/");

    /// <summary>
    /// The topic named by the environment, or null when PUBSUB_EMULATOR_HOST is unset. The project is PUBSUB_PROJECT_ID,
    /// else GOOGLE_CLOUD_PROJECT, else writeback-local; the topic WRITEBACK_TOPIC, else batch-ready.
    /// </summary>
    public static PubSubEmulatorTopic? FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Get(string name) => environment(name) is { Length: > 0 } value ? value : null;
        return Get(HostVariable) is { } host
            ? new PubSubEmulatorTopic(BaseUri(host), Get(ProjectVariable) ?? Get("GOOGLE_CLOUD_PROJECT") ?? DefaultProject, Get("WRITEBACK_TOPIC") ?? DefaultTopic)
            : null;
    }
}
