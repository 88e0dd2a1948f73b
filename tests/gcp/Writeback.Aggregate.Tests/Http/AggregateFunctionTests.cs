using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Writeback.Aggregate.Http;
using Writeback.Aggregate.Publishing;
using Writeback.Core.Contracts;

namespace Writeback.Aggregate.Tests.Http;

[Collection(SmallWarehouseGroup.Name)]
public sealed class AggregateFunctionTests(SmallWarehouse warehouse) : IAsyncLifetime
{
    private readonly WireMockServer _trigger = WireMockServer.Start();
    private WebApplication? _app;
    private HttpClient _client = null!;
    private string _output = null!;

    public async Task InitializeAsync()
    {
        _trigger.Given(Request.Create().WithPath("/push").UsingPost()).RespondWith(Response.Create().WithStatusCode(204));
        _output = warehouse.NewOutputFolder();
        var runner = AggregateRunner.CreateLocal(
            new LocalAggregateOptions { WarehousePath = warehouse.Path, OutputRoot = _output, PushUrl = new Uri(_trigger.Url + "/push") },
            new StaticPushTokenSource("local-oidc-token"));
        _app = AggregateFunction.Build([], _ => runner, b => b.WebHost.UseTestServer());
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    [Fact]
    public async Task A_JSON_request_runs_the_batch_and_answers_its_id_manifest_shards_and_rows()
    {
        using var response = await _client.PostAsJsonAsync("/", new { dataset = "student_dashboard", businessDate = "2026-11-25" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.Equal(["batchId", "manifestUri", "shards", "rows"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(warehouse.EnrolledOn(SmallWarehouse.Anchor), root.GetProperty("rows").GetInt64());
        Assert.True(File.Exists(new Uri(root.GetProperty("manifestUri").GetString()!).LocalPath));

        var pushed = PushedEvent();
        Assert.Equal(root.GetProperty("batchId").GetString(), pushed.BatchId);
        Assert.Equal(root.GetProperty("manifestUri").GetString(), pushed.ManifestUri);
        Assert.Equal("Bearer local-oidc-token", Assert.Single(_trigger.LogEntries).RequestMessage.Headers!["Authorization"].Single());
    }

    [Fact]
    public async Task A_binary_mode_pipeline_completed_CloudEvent_runs_the_batch()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/")
        {
            Content = new StringContent("""{"dataset":"class_summary","businessDate":"2026-11-25"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("ce-specversion", "1.0");
        request.Headers.Add("ce-id", "run-1");
        request.Headers.Add("ce-source", "//writeback/pipeline");
        request.Headers.Add("ce-type", AggregateRequestReader.PipelineCompletedType);

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("class_summary", PushedEvent().Dataset);
    }

    [Fact]
    public async Task A_binary_mode_Pub_Sub_CloudEvent_runs_the_batch_its_message_names()
    {
        var inner = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"dataset":"student_dashboard","businessDate":"2026-11-26"}"""));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/")
        {
            Content = new StringContent($$"""{"message":{"data":"{{inner}}","messageId":"1"},"subscription":"projects/p/subscriptions/s"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("ce-specversion", "1.0");
        request.Headers.Add("ce-id", "1");
        request.Headers.Add("ce-source", "//pubsub.googleapis.com/projects/p/topics/pipeline-completed");
        request.Headers.Add("ce-type", AggregateRequestReader.PubSubPublishedType);

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2026-11-26", PushedEvent().Partition);
    }

    [Theory]
    [InlineData("""{"dataset":"nope","businessDate":"2026-11-25"}""", "unknown dataset \"nope\"")]
    [InlineData("""{"dataset":"student_dashboard","businessDate":"25/11/2026"}""", "must be a date like")]
    [InlineData("""{"dataset":"student_dashboard"}""", "\"businessDate\" is required")]
    [InlineData("""{"businessDate":"2026-11-25"}""", "\"dataset\" is required")]
    [InlineData("""{"dataset":""", "not JSON")]
    [InlineData("""{"dataset":"student_dashboard","businessDate":"2027-03-01"}""", "no data for 2027-03-01")]
    public async Task Bad_input_answers_400_with_the_reason_and_publishes_nothing(string body, string reason)
    {
        using var response = await _client.PostAsync("/", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(reason, error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(_trigger.LogEntries);
    }

    [Fact]
    public async Task A_CloudEvent_of_another_type_answers_400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("ce-specversion", "1.0");
        request.Headers.Add("ce-id", "1");
        request.Headers.Add("ce-source", "//elsewhere");
        request.Headers.Add("ce-type", "com.example.other");

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("unsupported event type", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_CloudEvent_missing_required_attributes_answers_400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("ce-specversion", "1.0");
        request.Headers.Add("ce-type", AggregateRequestReader.PipelineCompletedType);

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_trigger_that_refuses_the_push_makes_the_function_answer_500_so_the_caller_retries()
    {
        _trigger.Reset();
        _trigger.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(503));

        using var response = await _client.PostAsJsonAsync("/", new { dataset = "student_dashboard", businessDate = "2026-11-25" });

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("503", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_warehouse_is_our_fault_and_answers_500()
    {
        var runner = AggregateRunner.CreateLocal(new LocalAggregateOptions { WarehousePath = Path.Combine(_output, "missing.duckdb"), OutputRoot = _output });
        await using var app = AggregateFunction.Build([], _ => runner, b => b.WebHost.UseTestServer());
        await app.StartAsync();

        using var response = await app.GetTestClient().PostAsJsonAsync("/", new { dataset = "student_dashboard", businessDate = "2026-11-25" });

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    [Fact]
    public async Task The_function_listens_on_PORT_when_hosted_on_Kestrel()
    {
        var runner = AggregateRunner.CreateLocal(new LocalAggregateOptions { WarehousePath = warehouse.Path, OutputRoot = _output });
        await using var app = AggregateFunction.Build([], _ => runner, b => b.WebHost.UseUrls("http://127.0.0.1:0"));
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var response = await http.PostAsJsonAsync("/", new { dataset = "class_summary", businessDate = "2026-11-24" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _trigger.Stop();
        _trigger.Dispose();
    }

    private BatchReadyEvent PushedEvent()
    {
        using var envelope = JsonDocument.Parse(Assert.Single(_trigger.LogEntries).RequestMessage.Body!);
        var data = Convert.FromBase64String(envelope.RootElement.GetProperty("message").GetProperty("data").GetString()!);
        return JsonSerializer.Deserialize(data, ContractJson.Default.BatchReadyEvent)!;
    }
}
