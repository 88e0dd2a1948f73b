using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions.Local.Tests;

/// <summary>The JSON 1.0 protocol below the CLI: status codes, error bodies, the signature check.</summary>
public sealed class WireProtocolTests : IAsyncLifetime
{
    /// <summary>Shaped as an SDK signs; the endpoint accepts any key, so a made-up signature is as good as a real one.</summary>
    private const string SigV4 = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/states/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00";

    private readonly HttpClient _http = new();
    private StepFunctionsEndpoint _endpoint = null!;

    public async Task InitializeAsync() =>
        _endpoint = await StepFunctionsEndpoint.StartAsync(new LocalStepFunctionsService(new StepFunctionsEngine()), 0, CancellationToken.None);

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _endpoint.DisposeAsync();
    }

    [Fact]
    public async Task A_closed_execution_started_again_is_a_400_execution_already_exists_in_the_services_error_shape()
    {
        var machine = (string)(await Send("CreateStateMachine", """{"name":"m","definition":"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}","roleArn":"arn:aws:iam::000000000000:role/r"}""")).Body["stateMachineArn"]!;
        var start = $$"""{"stateMachineArn":"{{machine}}","name":"n1","input":"{}"}""";
        var first = await Send("StartExecution", start);
        Assert.Equal(200, first.Status);
        await _endpoint.Service.Engine.FindExecution((string)first.Body["executionArn"]!)!.Completion;

        var again = await Send("StartExecution", start);

        Assert.Equal(400, again.Status);
        Assert.Equal("ExecutionAlreadyExists", (string?)again.Body["__type"]);
        Assert.Contains((string)first.Body["executionArn"]!, (string?)again.Body["message"], StringComparison.Ordinal);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, JsonValueKind(first.Body["startDate"]));
    }

    [Fact]
    public async Task A_request_without_a_sigv4_authorization_header_is_refused_before_it_is_read()
    {
        var missing = await Send("ListStateMachines", "{}", authorization: null);
        var basic = await Send("ListStateMachines", "{}", authorization: "Basic dXNlcjpwYXNz");

        Assert.Equal((400, "MissingAuthenticationTokenException"), (missing.Status, (string?)missing.Body["__type"]));
        Assert.Equal((400, "IncompleteSignatureException"), (basic.Status, (string?)basic.Body["__type"]));
    }

    [Fact]
    public async Task An_action_outside_the_served_set_is_refused_by_name_as_an_unknown_operation()
    {
        var activity = await Send("CreateActivity", """{"name":"a"}""");
        var sync = await Send("StartSyncExecution", "{}");

        foreach (var answer in new[] { activity, sync })
        {
            Assert.Equal(400, answer.Status);
            Assert.Equal("UnknownOperationException", (string?)answer.Body["__type"]);
        }

        Assert.Contains("CreateActivity", (string?)activity.Body["message"], StringComparison.Ordinal);
    }

    private static System.Text.Json.JsonValueKind JsonValueKind(JsonNode? node) => node!.GetValueKind();

    private async Task<(int Status, JsonNode Body)> Send(string action, string body, string? authorization = SigV4)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint.Url)
        {
            Content = new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.0");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "AWSStepFunctions." + action);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await _http.SendAsync(request);
        Assert.Equal("application/x-amz-json-1.0", response.Content.Headers.ContentType?.MediaType);
        return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }
}
