using System.Text.Json;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Writeback.Aggregate.Cloud;
using Writeback.Aggregate.Publishing;

namespace Writeback.Aggregate.Tests.Cloud;

public sealed class PubSubRestPublisherTests : IDisposable
{
    private readonly WireMockServer _pubsub = WireMockServer.Start();
    private readonly HttpClient _http = new();

    [Fact]
    public async Task Publish_posts_the_message_to_the_topic_with_an_access_token_and_returns_its_id()
    {
        _pubsub.Given(Request.Create().WithPath("/v1/projects/my-project/topics/batch-ready:publish").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"messageIds":["4242"]}"""));
        var publisher = new PubSubRestPublisher(_http, new StaticAccessTokenSource("ya29.token"), "my-project", "batch-ready", new Uri(_pubsub.Url + "/"));
        var message = new PubSubMessage("eyJ4IjoxfQ==", new Dictionary<string, string> { ["batchId"] = "b-1", ["dataset"] = "student_dashboard" });

        var id = await publisher.PublishAsync(message, CancellationToken.None);

        Assert.Equal("4242", id);
        var request = Assert.Single(_pubsub.LogEntries).RequestMessage;
        Assert.Equal("POST", request.Method);
        Assert.Equal("Bearer ya29.token", request.Headers!["Authorization"].Single());
        using var body = JsonDocument.Parse(request.Body!);
        var sent = Assert.Single(body.RootElement.GetProperty("messages").EnumerateArray());
        Assert.Equal(["data", "attributes"], sent.EnumerateObject().Select(p => p.Name));
        Assert.Equal("eyJ4IjoxfQ==", sent.GetProperty("data").GetString());
        Assert.Equal("b-1", sent.GetProperty("attributes").GetProperty("batchId").GetString());
    }

    [Fact]
    public async Task A_refused_publish_fails_with_Googles_status_and_message()
    {
        _pubsub.Given(Request.Create().UsingPost())
            .RespondWith(Response.Create().WithStatusCode(403).WithBody("""{"error":{"code":403,"message":"User not authorized to perform this action.","status":"PERMISSION_DENIED"}}"""));
        var publisher = new PubSubRestPublisher(_http, new StaticAccessTokenSource("t"), "p", "t", new Uri(_pubsub.Url + "/"));

        var error = await Assert.ThrowsAsync<GoogleApiException>(() =>
            publisher.PublishAsync(new PubSubMessage("e30=", new Dictionary<string, string>()), CancellationToken.None));

        Assert.Equal(403, error.StatusCode);
        Assert.Contains("PERMISSION_DENIED", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _pubsub.Stop();
        _pubsub.Dispose();
        _http.Dispose();
    }
}
