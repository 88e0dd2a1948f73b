using System.Diagnostics;
using System.Text.Json.Nodes;
using Writeback.Aggregate;
using Writeback.Aggregate.Warehouse;
using Writeback.Cli.Local;
using Writeback.StepFunctions;
using Writeback.Testing;
using Writeback.Trigger.Executions;
using Xunit.Abstractions;

namespace Writeback.Cli.Tests.Local;

/// <summary>
/// Events through Google's own Pub/Sub emulator, judged by it: the aggregate publishes over REST, the emulator pushes
/// the real envelope to the token hop, the hop adds the OIDC token and forwards to the real trigger, which verifies it
/// and starts the execution on the local Step Functions endpoint. Every hop is real HTTP.
/// </summary>
public sealed class PubSubEmulatorTests(PostgresDatabase database, PubSubEmulatorFixture pubsub, ITestOutputHelper output)
    : IClassFixture<PostgresDatabase>, IClassFixture<PubSubEmulatorFixture>, IDisposable
{
    private static readonly DateOnly Day = new(2026, 11, 25);
    private readonly string _state = Directory.CreateTempSubdirectory("writeback-pubsub-test-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [EmulatorFact]
    public async Task A_published_batch_is_pushed_by_the_emulator_through_the_token_hop_and_starts_its_execution()
    {
        await using var aws = await StartAwsAsync();
        await using var events = await ConnectAsync(aws);
        var deliveries = new Deliveries(events);
        var started = new StartTimes(aws);

        var (result, publishedAt) = await PublishAsync(aws, events, new FixedTime(DateTimeOffset.UtcNow));
        var execution = await events.WaitForExecutionAsync(aws, ExecutionName.FromBatchId(result.BatchId), result.BatchId, CancellationToken.None);
        await execution.Completion;

        Assert.True(events.UsesEmulator, events.Description);
        Assert.Equal("SUCCEEDED", execution.StatusName);
        var delivery = Assert.Single(await deliveries.WaitForAsync(1));
        Assert.Equal(202, delivery.StatusCode);
        Assert.Contains("\"started\"", delivery.Body, StringComparison.Ordinal);
        // The real envelope: Pub/Sub's camelCase fields and their snake_case twins, both there, both accepted.
        var envelope = JsonNode.Parse(delivery.Envelope)!;
        var message = envelope["message"]!;
        Assert.Equal(result.MessageId, (string?)message["messageId"]);
        Assert.Equal(result.MessageId, (string?)message["message_id"]);
        Assert.NotNull((string?)message["publishTime"]);
        Assert.Equal((string?)message["publishTime"], (string?)message["publish_time"]);
        Assert.Equal(result.BatchId, (string?)message["attributes"]?["batchId"]);
        Assert.EndsWith("-push", (string?)envelope["subscription"], StringComparison.Ordinal);
        await ReportLatencyAsync("emulator", aws, events, started.LatencyOf(execution.Name, publishedAt));
    }

    [EmulatorFact]
    public async Task A_trigger_answering_503_once_is_redelivered_by_the_emulator_until_the_execution_starts_once()
    {
        // The Step Functions endpoint refuses the first StartExecution; the trigger answers 503 and the emulator retries.
        using var network = new StartExecutionRefusedOnce();
        await using var aws = await StartAwsAsync(network);
        await using var events = await ConnectAsync(aws);
        var deliveries = new Deliveries(events);
        var started = new List<Execution>();
        aws.Engine.ExecutionStarted += started.Add;

        var (result, _) = await PublishAsync(aws, events, new FixedTime(DateTimeOffset.UtcNow));
        var execution = await events.WaitForExecutionAsync(aws, ExecutionName.FromBatchId(result.BatchId), result.BatchId, CancellationToken.None);
        var both = await deliveries.WaitForAsync(2);
        await execution.Completion;

        Assert.Equal(1, network.Refused);
        Assert.Equal(new[] { 503, 202 }, both.Select(d => d.StatusCode));
        Assert.Contains("start_failed", both[0].Body, StringComparison.Ordinal);
        Assert.Equal(MessageId(both[0]), MessageId(both[1]));
        Assert.Same(execution, Assert.Single(started));
        Assert.Equal("SUCCEEDED", execution.StatusName);
        output.WriteLine($"redelivered after {(both[1].At - both[0].At).TotalMilliseconds:0} ms (minimum backoff {LocalPubSub.Retry.MinimumBackoff})");
    }

    [EmulatorFact]
    public async Task The_same_batch_published_twice_starts_one_execution()
    {
        await using var aws = await StartAwsAsync();
        await using var events = await ConnectAsync(aws);
        var deliveries = new Deliveries(events);
        var started = new List<Execution>();
        aws.Engine.ExecutionStarted += started.Add;
        // One export time: the second run finds its own manifest and publishes the very same event again.
        var time = new FixedTime(DateTimeOffset.UtcNow);

        var (first, _) = await PublishAsync(aws, events, time);
        var (second, _) = await PublishAsync(aws, events, time);
        var both = await deliveries.WaitForAsync(2);
        await Assert.Single(started).Completion;

        Assert.Equal(first.BatchId, second.BatchId);
        Assert.NotEqual(first.MessageId, second.MessageId);
        // Both acknowledged (a 2xx stops redelivery); only one started anything.
        Assert.All(both, d => Assert.InRange(d.StatusCode, 200, 299));
        Assert.Equal("SUCCEEDED", Assert.Single(started).StatusName);
    }

    [Fact]
    public async Task Without_the_emulator_the_built_in_push_starts_the_execution_before_the_publish_returns()
    {
        await using var aws = await StartAwsAsync();
        await using var events = await LocalPubSub.ConnectAsync(
            new LocalPubSubOptions { Mode = PubSubMode.Builtin }, await LocalPubSub.StartEmulatorAsync(new LocalPubSubOptions { Mode = PubSubMode.Builtin }, CancellationToken.None),
            aws.TriggerUrl, aws.Issuer, CancellationToken.None);
        var started = new StartTimes(aws);

        var (result, publishedAt) = await PublishAsync(aws, events, new FixedTime(DateTimeOffset.UtcNow));
        var execution = aws.FindExecution(ExecutionName.FromBatchId(result.BatchId));

        Assert.False(events.UsesEmulator);
        Assert.Contains("built-in push", events.Description, StringComparison.Ordinal);
        Assert.NotNull(execution);
        await execution.Completion;
        await ReportLatencyAsync("built-in", aws, events, started.LatencyOf(execution.Name, publishedAt));
    }

    private Task<LocalAwsSide> StartAwsAsync(HttpMessageHandler? network = null) =>
        LocalAwsSide.StartAsync(
            new LocalAwsSideOptions
            {
                ConnectionString = database.ConnectionString,
                IssuerKeyPath = Path.Combine(_state, "oidc.pem"),
                ExportsFolder = Path.Combine(_state, "exports"),
                Lambda = LambdaMode.InProcess,
                AwsHandler = network,
            },
            CancellationToken.None);

    private async Task<LocalPubSub> ConnectAsync(LocalAwsSide aws)
    {
        var options = PubSubEmulatorFixture.OwnTopic(pubsub.Emulator!);
        return await LocalPubSub.ConnectAsync(options, await LocalPubSub.StartEmulatorAsync(options, CancellationToken.None), aws.TriggerUrl, aws.Issuer, CancellationToken.None);
    }

    /// <summary>Runs the aggregate for class_summary; returns its result and when its publish began (a Stopwatch timestamp).</summary>
    private async Task<(AggregateResult Result, long PublishedAt)> PublishAsync(LocalAwsSide aws, LocalPubSub events, TimeProvider time)
    {
        var warehouse = Path.Combine(_state, "warehouse.duckdb");
        SampleWarehouse.Ensure(warehouse, SampleWarehouse.DefaultSeed, WarehouseSize.Small, Day);
        var runner = AggregateRunner.CreateLocal(
            events.Publishing(new LocalAggregateOptions { WarehousePath = warehouse, OutputRoot = Path.Combine(_state, "exports") }),
            new IssuerTokenSource(aws.Issuer, LocalAwsSide.PushServiceAccount),
            timeProvider: time);
        var result = await runner.RunAsync("class_summary", Day);
        return (result, Stopwatch.GetTimestamp() - (long)(result.Timings.Publish.TotalSeconds * Stopwatch.Frequency));
    }

    private static string? MessageId(Timed delivery) => (string?)JsonNode.Parse(delivery.Envelope)?["message"]?["messageId"];

    /// <summary>The first batch's latency (cold) and two more batches' (warm), written to the test output and results.</summary>
    private async Task ReportLatencyAsync(string path, LocalAwsSide aws, LocalPubSub events, TimeSpan cold)
    {
        var started = new StartTimes(aws);
        var warm = new List<TimeSpan>();
        for (var i = 1; i <= 2; i++)
        {
            var (result, publishedAt) = await PublishAsync(aws, events, new FixedTime(DateTimeOffset.UtcNow.AddMinutes(i)));
            var execution = await events.WaitForExecutionAsync(aws, ExecutionName.FromBatchId(result.BatchId), result.BatchId, CancellationToken.None);
            await execution.Completion;
            warm.Add(started.LatencyOf(execution.Name, publishedAt));
        }

        var line = $"publish → execution start via the {path} push: first {cold.TotalMilliseconds:0} ms, then {string.Join(", ", warm.Select(w => $"{w.TotalMilliseconds:0} ms"))}"
            + (path == "emulator" && pubsub.Emulator is { } e ? $" (emulator started in {e.StartTime.TotalSeconds:0.0} s)" : "");
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("WRITEBACK_TEST_RESULTS") is { Length: > 0 } results)
        {
            File.AppendAllText(Path.Combine(results, "pubsub-latency.txt"), line + Environment.NewLine);
        }
    }

    /// <summary>The pushes the hop forwarded, in order, with when each was answered.</summary>
    private sealed class Deliveries
    {
        private readonly List<(PushDelivery Delivery, DateTime At)> _seen = [];

        public Deliveries(LocalPubSub events) => events.Delivered += d =>
        {
            lock (_seen)
            {
                _seen.Add((d, DateTime.UtcNow));
            }
        };

        public async Task<IReadOnlyList<Timed>> WaitForAsync(int count)
        {
            var until = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                lock (_seen)
                {
                    if (_seen.Count >= count)
                    {
                        return [.. _seen.Select(s => new Timed(s.Delivery.Envelope, s.Delivery.StatusCode, s.Delivery.Body, s.At))];
                    }
                }

                Assert.True(DateTime.UtcNow < until, $"fewer than {count} pushes arrived within 30 s");
                await Task.Delay(20);
            }
        }
    }

    private sealed record Timed(string Envelope, int StatusCode, string Body, DateTime At);

    /// <summary>When each execution started, as a Stopwatch timestamp.</summary>
    private sealed class StartTimes
    {
        private readonly Dictionary<string, long> _at = [];

        public StartTimes(LocalAwsSide aws) => aws.Engine.ExecutionStarted += e =>
        {
            lock (_at)
            {
                _at[e.Name] = Stopwatch.GetTimestamp();
            }
        };

        public TimeSpan LatencyOf(string name, long publishedAt)
        {
            lock (_at)
            {
                return Stopwatch.GetElapsedTime(publishedAt, _at[name]);
            }
        }
    }

    /// <summary>The network under the trigger's Step Functions client: the first StartExecution finds the endpoint refusing.</summary>
    private sealed class StartExecutionRefusedOnce() : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _refused;

        public int Refused => _refused;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.Headers.TryGetValues("X-Amz-Target", out var target) && target.Single() == "AWSStepFunctions.StartExecution"
                && Interlocked.Exchange(ref _refused, 1) == 0
                ? throw new HttpRequestException("Connection refused (127.0.0.1, the Step Functions endpoint, this once)")
                : base.SendAsync(request, cancellationToken);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
