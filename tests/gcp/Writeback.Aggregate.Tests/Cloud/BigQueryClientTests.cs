using System.Text.Json;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Writeback.Aggregate.Cloud;

namespace Writeback.Aggregate.Tests.Cloud;

public sealed class BigQueryClientTests : IDisposable
{
    private const string JobsPath = "/bigquery/v2/projects/my-project/jobs";
    private readonly WireMockServer _bigQuery = WireMockServer.Start();
    private readonly HttpClient _http = new();
    private readonly BigQueryClient _client;

    public BigQueryClientTests() =>
        _client = new BigQueryClient(_http, new StaticAccessTokenSource("ya29.token"), new Uri(_bigQuery.Url + "/"));

    [Fact]
    public async Task Insert_posts_a_standard_SQL_query_job_with_its_id_and_location()
    {
        _bigQuery.Given(Request.Create().WithPath(JobsPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(Job("RUNNING")));

        var job = await _client.InsertQueryJobAsync("my-project", "asia-northeast1", "job_1", "SELECT 1", CancellationToken.None);

        Assert.Equal("RUNNING", job.Status?.State);
        var request = Assert.Single(_bigQuery.LogEntries).RequestMessage;
        Assert.Equal("Bearer ya29.token", request.Headers!["Authorization"].Single());
        using var body = JsonDocument.Parse(request.Body!);
        var reference = body.RootElement.GetProperty("jobReference");
        Assert.Equal("my-project", reference.GetProperty("projectId").GetString());
        Assert.Equal("job_1", reference.GetProperty("jobId").GetString());
        Assert.Equal("asia-northeast1", reference.GetProperty("location").GetString());
        var query = body.RootElement.GetProperty("configuration").GetProperty("query");
        Assert.Equal("SELECT 1", query.GetProperty("query").GetString());
        Assert.False(query.GetProperty("useLegacySql").GetBoolean());
    }

    [Fact]
    public async Task Waiting_polls_jobs_get_with_the_location_until_the_job_is_done()
    {
        _bigQuery.Given(Request.Create().WithPath(JobsPath + "/job_1").WithParam("location", "US").UsingGet())
            .InScenario("job").WillSetStateTo("second poll")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(Job("RUNNING")));
        _bigQuery.Given(Request.Create().WithPath(JobsPath + "/job_1").WithParam("location", "US").UsingGet())
            .InScenario("job").WhenStateIs("second poll")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(Job("DONE")));

        var done = await _client.WaitForJobAsync("my-project", "US", Deserialize(Job("PENDING")), TimeSpan.Zero, CancellationToken.None);

        Assert.Equal("DONE", done.Status?.State);
        Assert.Equal(2, _bigQuery.LogEntries.Count);
        Assert.All(_bigQuery.LogEntries, e => Assert.Equal("GET", e.RequestMessage.Method));
    }

    [Fact]
    public async Task A_job_that_is_done_with_an_error_result_fails_with_BigQuerys_reason()
    {
        _bigQuery.Given(Request.Create().WithPath(JobsPath + "/job_1").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""
                {"jobReference":{"projectId":"my-project","jobId":"job_1","location":"US"},
                 "status":{"state":"DONE","errorResult":{"reason":"invalidQuery","location":"query","message":"Unrecognized name: scroe at [12:3]"},
                           "errors":[{"reason":"invalidQuery","message":"Unrecognized name: scroe at [12:3]"}]}}
                """));

        var error = await Assert.ThrowsAsync<BigQueryJobFailedException>(() =>
            _client.WaitForJobAsync("my-project", "US", Deserialize(Job("RUNNING")), TimeSpan.Zero, CancellationToken.None));

        Assert.Equal("invalidQuery", error.Reason);
        Assert.Contains("Unrecognized name: scroe", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_insert_retried_after_the_job_was_created_picks_up_the_existing_job()
    {
        _bigQuery.Given(Request.Create().WithPath(JobsPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(409).WithBody("""{"error":{"code":409,"message":"Already Exists: Job my-project:US.job_1","status":"ALREADY_EXISTS"}}"""));
        _bigQuery.Given(Request.Create().WithPath(JobsPath + "/job_1").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(Job("DONE")));

        var job = await _client.InsertQueryJobAsync("my-project", "US", "job_1", "SELECT 1", CancellationToken.None);

        Assert.Equal("DONE", job.Status?.State);
    }

    [Fact]
    public async Task An_error_status_from_the_API_fails_with_the_status()
    {
        _bigQuery.Given(Request.Create().WithPath(JobsPath).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(401).WithBody("""{"error":{"code":401,"status":"UNAUTHENTICATED"}}"""));

        var error = await Assert.ThrowsAsync<GoogleApiException>(() =>
            _client.InsertQueryJobAsync("my-project", "US", "job_1", "SELECT 1", CancellationToken.None));

        Assert.Equal(401, error.StatusCode);
    }

    public void Dispose()
    {
        _bigQuery.Stop();
        _bigQuery.Dispose();
        _http.Dispose();
    }

    private static string Job(string state) =>
        $$$"""{"kind":"bigquery#job","id":"my-project:US.job_1","jobReference":{"projectId":"my-project","jobId":"job_1","location":"US"},"status":{"state":"{{{state}}}"}}""";

    private static BigQueryJob Deserialize(string json) => JsonSerializer.Deserialize<BigQueryJob>(json)!;
}
