using System.Text;
using System.Text.Json;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Writeback.Aggregate.Publishing;
using Writeback.Core.Contracts;

namespace Writeback.Aggregate.Tests.Publishing;

public sealed class LocalPushPublisherTests : IDisposable
{
    private static readonly BatchReadyEvent Ready = new()
    {
        Version = BatchReadyEvent.CurrentVersion,
        BatchId = "student_dashboard-20261125-0123456789abcdef",
        Dataset = "student_dashboard",
        Partition = "2026-11-25",
        ManifestUri = "file:///tmp/batches/manifest.json",
        Sequence = 1_795_000_000_000,
        Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };

    private readonly WireMockServer _server = WireMockServer.Start();
    private readonly HttpClient _http = new();

    [Fact]
    public async Task A_push_posts_the_Pub_Sub_envelope_with_a_bearer_token_for_the_audience()
    {
        _server.Given(Request.Create().WithPath("/push").UsingPost()).RespondWith(Response.Create().WithStatusCode(204));
        var tokens = new RecordingTokenSource();
        var publisher = new LocalPushPublisher(_http, new LocalPushOptions { PushUrl = new Uri(_server.Url + "/push") }, tokens);

        var messageId = await publisher.PublishAsync(BatchReadyMessage.Create(Ready, new DateOnly(2026, 11, 25)), CancellationToken.None);

        var request = Assert.Single(_server.LogEntries).RequestMessage;
        Assert.Equal("POST", request.Method);
        Assert.Equal("Bearer token-for-" + _server.Url + "/push", request.Headers!["Authorization"].Single());
        Assert.StartsWith("application/json", request.Headers["Content-Type"].Single(), StringComparison.Ordinal);
        Assert.Equal([_server.Url + "/push"], tokens.Audiences);

        using var body = JsonDocument.Parse(request.Body!);
        var root = body.RootElement;
        Assert.Equal(["message", "subscription"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(LocalPushOptions.DefaultSubscription, root.GetProperty("subscription").GetString());
        var message = root.GetProperty("message");
        Assert.Equal(["data", "attributes", "messageId", "publishTime"], message.EnumerateObject().Select(p => p.Name));
        Assert.Equal(messageId, message.GetProperty("messageId").GetString());
        Assert.Matches(@"^\d+$", messageId);
        Assert.True(DateTimeOffset.TryParse(message.GetProperty("publishTime").GetString(), out _));

        var attributes = message.GetProperty("attributes");
        Assert.Equal(Ready.BatchId, attributes.GetProperty("batchId").GetString());
        Assert.Equal("student_dashboard", attributes.GetProperty("dataset").GetString());
        Assert.Equal("2026-11-25", attributes.GetProperty("businessDate").GetString());
        Assert.Equal(Ready.Traceparent, attributes.GetProperty("traceparent").GetString());

        var data = Convert.FromBase64String(message.GetProperty("data").GetString()!);
        Assert.Equal(Ready, JsonSerializer.Deserialize(data, ContractJson.Default.BatchReadyEvent));
    }

    [Fact]
    public async Task A_configured_audience_is_the_one_the_token_is_minted_for()
    {
        _server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        var tokens = new RecordingTokenSource();
        var publisher = new LocalPushPublisher(_http, new LocalPushOptions { PushUrl = new Uri(_server.Url + "/"), Audience = "https://trigger.example" }, tokens);

        await publisher.PublishAsync(BatchReadyMessage.Create(Ready, new DateOnly(2026, 11, 25)), CancellationToken.None);

        Assert.Equal(["https://trigger.example"], tokens.Audiences);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task A_push_the_receiver_does_not_acknowledge_fails_with_its_status(int status)
    {
        _server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(status).WithBody("nope"));
        var publisher = new LocalPushPublisher(_http, new LocalPushOptions { PushUrl = new Uri(_server.Url + "/") }, new StaticPushTokenSource("t"));

        var error = await Assert.ThrowsAsync<PublishException>(() =>
            publisher.PublishAsync(BatchReadyMessage.Create(Ready, new DateOnly(2026, 11, 25)), CancellationToken.None));

        Assert.Equal(status, error.StatusCode);
        Assert.Contains("nope", error.Message, StringComparison.Ordinal);
    }

    // 102 is an interim response that HttpClient never surfaces as the final answer, so it cannot be staged here.
    [Theory]
    [InlineData(200)]
    [InlineData(201)]
    [InlineData(202)]
    public async Task Every_status_Pub_Sub_counts_as_an_ack_is_a_success(int status)
    {
        _server.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(status));
        var publisher = new LocalPushPublisher(_http, new LocalPushOptions { PushUrl = new Uri(_server.Url + "/") }, new StaticPushTokenSource("t"));

        var id = await publisher.PublishAsync(BatchReadyMessage.Create(Ready, new DateOnly(2026, 11, 25)), CancellationToken.None);

        Assert.NotEmpty(id);
    }

    [Fact]
    public void The_message_omits_the_traceparent_attribute_when_the_event_has_none()
    {
        var message = BatchReadyMessage.Create(Ready with { Traceparent = null }, new DateOnly(2026, 11, 25));

        Assert.Equal(["batchId", "dataset", "businessDate"], message.Attributes.Keys);
        Assert.DoesNotContain("traceparent", Encoding.UTF8.GetString(Convert.FromBase64String(message.Data)), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _server.Stop();
        _server.Dispose();
        _http.Dispose();
    }

    private sealed class RecordingTokenSource : IPushTokenSource
    {
        public List<string> Audiences { get; } = [];

        public Task<string> GetTokenAsync(string audience, CancellationToken cancellationToken)
        {
            Audiences.Add(audience);
            return Task.FromResult("token-for-" + audience);
        }
    }
}
