using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using Writeback.Aggregate.Cloud;

namespace Writeback.Cli.Local;

/// <summary>
/// Google's Pub/Sub emulator (<c>gcloud beta emulators pubsub start</c>, a Java process) on a free loopback port with a
/// data folder of its own, and the two admin calls the local path needs: create a topic, create a push subscription.
/// Disposing stops the whole process tree (gcloud's Python and the JVM under it) and deletes the folder.
/// </summary>
internal sealed class PubSubEmulator : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly string _dataFolder;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private int _disposed;

    private PubSubEmulator(Process process, string dataFolder, string hostPort)
    {
        _process = process;
        _dataFolder = dataFolder;
        HostPort = hostPort;
    }

    /// <summary>What PUBSUB_EMULATOR_HOST is set to for publishers: <c>127.0.0.1:port</c>.</summary>
    public string HostPort { get; }

    public Uri BaseUri => PubSubEmulatorTopic.BaseUri(HostPort);

    /// <summary>From starting the process to the emulator answering HTTP.</summary>
    public TimeSpan StartTime { get; private set; }

    /// <summary>The watchdog shell's process id, which is also the id of the session gcloud and the JVM run in.</summary>
    public int SessionId => _process.Id;

    /// <summary>gcloud, when it is on PATH with the pubsub-emulator component and Java beside it; else null and why not.</summary>
    public static string? Locate(out string reason)
    {
        var gcloud = OnPath("gcloud");
        if (gcloud is null)
        {
            reason = "gcloud is not on PATH";
            return null;
        }

        // gcloud is a symlink into the SDK (…/google-cloud-sdk/bin/gcloud); components live under its platform folder.
        var sdk = Path.GetDirectoryName(Path.GetDirectoryName(new FileInfo(gcloud).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? gcloud))!;
        if (!File.Exists(Path.Combine(sdk, "platform", "pubsub-emulator", "bin", "cloud-pubsub-emulator")))
        {
            reason = "gcloud's pubsub-emulator component is not installed (apt-get install google-cloud-cli-pubsub-emulator)";
            return null;
        }

        if (OnPath("java") is null)
        {
            reason = "the Pub/Sub emulator needs Java, and java is not on PATH";
            return null;
        }

        reason = "";
        return gcloud;
    }

    public static async Task<PubSubEmulator> StartAsync(string gcloud, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var port = FreePort();
        var hostPort = $"127.0.0.1:{port}";
        var dataFolder = Directory.CreateTempSubdirectory("writeback-pubsub-").FullName;
        var process = new Process { StartInfo = Watched(gcloud, hostPort, dataFolder) };
        var output = new OutputTail();
        process.OutputDataReceived += (_, e) => output.Add(e.Data);
        process.ErrorDataReceived += (_, e) => output.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var emulator = new PubSubEmulator(process, dataFolder, hostPort);
        try
        {
            await emulator.WaitUntilServingAsync(output, cancellationToken);
        }
        catch
        {
            await emulator.DisposeAsync();
            throw;
        }

        emulator.StartTime = clock.Elapsed;
        return emulator;
    }

    /// <summary>
    /// gcloud under a watchdog shell in a session of its own. The shell waits for its stdin to close, which happens
    /// when we dispose and also when this process dies without disposing (SIGKILL: the kernel closes the pipe), then
    /// kills gcloud's process group (gcloud makes one of its own, with the JVM in it) and its own (dash's kill needs
    /// <c>-s KILL --</c> before a group). So no JVM outlives us, even one whose gcloud parent died first.
    /// </summary>
    private static ProcessStartInfo Watched(string gcloud, string hostPort, string dataFolder)
    {
        const string Watchdog = """
            "$@" </dev/null &
            child=$!
            while read -r _; do :; done
            kill -s KILL -- -"$child" 2>/dev/null
            kill -s KILL -- -$$
            """;
        var start = new ProcessStartInfo(OnPath("setsid") ?? "/usr/bin/setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "sh", "-c", Watchdog, "writeback-pubsub-watchdog", gcloud, "beta", "emulators", "pubsub", "start", $"--host-port={hostPort}", $"--data-dir={dataFolder}", "--quiet" })
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private async Task WaitUntilServingAsync(OutputTail output, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StartTimeout);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new PubSubEmulatorException($"the Pub/Sub emulator exited (status {_process.ExitCode}) before serving: {output}");
            }

            try
            {
                // The emulator answers "Ok" at its root once it is serving.
                using var response = await _http.GetAsync(BaseUri, deadline.Token);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new PubSubEmulatorException($"the Pub/Sub emulator did not serve on {HostPort} within {StartTimeout.TotalSeconds:0} s: {output}");
            }

            try
            {
                await Task.Delay(100, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new PubSubEmulatorException($"the Pub/Sub emulator did not serve on {HostPort} within {StartTimeout.TotalSeconds:0} s: {output}");
            }
        }
    }

    /// <summary>PUT projects/{p}/topics/{t}.</summary>
    public async Task CreateTopicAsync(string projectId, string topic, CancellationToken cancellationToken)
    {
        using var response = await _http.PutAsync(new Uri(BaseUri, $"v1/projects/{projectId}/topics/{topic}"), content: null, cancellationToken);
        await EnsureAsync(response, $"creating topic {topic}", cancellationToken);
    }

    /// <summary>PUT projects/{p}/subscriptions/{s}: a push subscription to <paramref name="subscription"/>'s endpoint.</summary>
    public async Task CreatePushSubscriptionAsync(string projectId, string name, PushSubscription subscription, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        using var response = await _http.PutAsJsonAsync(
            new Uri(BaseUri, $"v1/projects/{projectId}/subscriptions/{name}"), subscription, PubSubAdminJson.Default.PushSubscription, cancellationToken);
        await EnsureAsync(response, $"creating subscription {name}", cancellationToken);
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new PubSubEmulatorException($"the Pub/Sub emulator refused {what}: {(int)response.StatusCode} {(body.Length <= 500 ? body : body[..500])}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _http.Dispose();
        try
        {
            // The watchdog's signal; it kills gcloud's group and its own.
            _process.StandardInput.Close();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or IOException)
        {
            // The watchdog did not answer: the tree as it stands (shell, gcloud's Python, the JVM).
            KillTree();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_dataFolder, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temp folder; the JVM may still be letting go of a file.
        }
    }

    private void KillTree()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>The last lines the emulator printed, for a failure message.</summary>
    private sealed class OutputTail
    {
        private readonly Queue<string> _lines = new();

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > 15)
                {
                    _lines.Dequeue();
                }
            }
        }

        public override string ToString()
        {
            lock (_lines)
            {
                return _lines.Count == 0 ? "(no output)" : string.Join(" | ", _lines);
            }
        }
    }
}

/// <summary>The emulator could not be started or refused an admin call.</summary>
internal sealed class PubSubEmulatorException(string message) : Exception(message);

/// <summary>A subscription as <c>subscriptions.create</c> takes it, with the fields a push subscription uses.</summary>
internal sealed record PushSubscription(
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("pushConfig")] PushConfig PushConfig,
    [property: JsonPropertyName("ackDeadlineSeconds")] int AckDeadlineSeconds,
    [property: JsonPropertyName("retryPolicy")] RetryPolicy RetryPolicy);

/// <summary>Where to push, and as whom Google would sign the token (the emulator keeps this but signs nothing).</summary>
internal sealed record PushConfig(
    [property: JsonPropertyName("pushEndpoint")] string PushEndpoint,
    [property: JsonPropertyName("oidcToken")] OidcToken OidcToken);

internal sealed record OidcToken(
    [property: JsonPropertyName("serviceAccountEmail")] string ServiceAccountEmail,
    [property: JsonPropertyName("audience")] string Audience);

/// <summary>Backoffs as protobuf Durations in JSON (<c>"1s"</c>).</summary>
internal sealed record RetryPolicy(
    [property: JsonPropertyName("minimumBackoff")] string MinimumBackoff,
    [property: JsonPropertyName("maximumBackoff")] string MaximumBackoff);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PushSubscription))]
internal sealed partial class PubSubAdminJson : JsonSerializerContext;
