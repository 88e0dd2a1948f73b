using System.Net;
using System.Text;
using Writeback.Aggregate;
using Writeback.Aggregate.Publishing;
using Writeback.Cli.Local;
using Writeback.StepFunctions;
using Writeback.Testing;
using Writeback.Trigger.Auth;
using Writeback.Trigger.Local;

namespace Writeback.Cli.Tests.Local;

/// <summary>The loopback AWS side as Pub/Sub sees it: HTTP pushes with OIDC tokens, answered by the real trigger.</summary>
public sealed class LocalAwsSideTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private static readonly DateOnly Day = new(2026, 11, 25);
    private readonly string _state = Directory.CreateTempSubdirectory("writeback-aws-test-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task The_same_export_delivered_twice_starts_one_execution()
    {
        await using var aws = await StartAsync();
        var started = new List<Execution>();
        aws.Engine.ExecutionStarted += started.Add;
        // One export time: the exporter finds its own manifest and publishes the very same event again.
        var (runner, _) = Runner(aws, new IssuerTokenSource(aws.Issuer, LocalAwsSide.PushServiceAccount), new FixedTime(DateTimeOffset.UtcNow));

        var first = await runner.RunAsync("class_summary", Day);
        var second = await runner.RunAsync("class_summary", Day);
        await started.Single().Completion;
        var third = await runner.RunAsync("class_summary", Day);

        Assert.True(second.Reused);
        Assert.Equal(first.BatchId, second.BatchId);
        Assert.Equal(first.BatchId, third.BatchId);
        var execution = Assert.Single(started);
        Assert.Equal("SUCCEEDED", execution.StatusName);
    }

    [Fact]
    public async Task A_failed_batch_re_sent_is_started_again_as_attempt_two_and_applied()
    {
        // A database of its own: the class's shared one may already hold this day, which would make the batch a no-op.
        var own = new PostgresDatabase();
        await own.InitializeAsync();
        try
        {
            await FailThenRetryAsync(own);
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    private async Task FailThenRetryAsync(PostgresDatabase db)
    {
        await using var aws = await StartAsync(db);
        var started = new List<Execution>();
        aws.Engine.ExecutionStarted += started.Add;
        var runner = Runner(aws, new IssuerTokenSource(aws.Issuer, LocalAwsSide.PushServiceAccount), new FixedTime(DateTimeOffset.UtcNow));

        // The first delivery's execution fails: a shard's bytes no longer match the manifest's checksum.
        var export = await AggregateRunner.CreateLocal(Options(aws, publish: false), timeProvider: runner.Time).RunAsync("class_summary", Day);
        var shard = Path.Combine(Path.GetDirectoryName(new Uri(export.ManifestUri).LocalPath)!, "shard-00000.parquet");
        var good = await File.ReadAllBytesAsync(shard);
        var bad = (byte[])good.Clone();
        bad[good.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(shard, bad);
        var first = await runner.Runner.RunAsync("class_summary", Day);
        await Assert.Single(started).Completion;
        Assert.Equal("FAILED", started[0].StatusName);
        Assert.Equal(0L, await CountAsync(db, "dashboard.class_daily"));

        // The cause is fixed and the same event is delivered again.
        await File.WriteAllBytesAsync(shard, good);
        var again = await runner.Runner.RunAsync("class_summary", Day);
        Assert.Equal(2, started.Count);
        await started[1].Completion;

        Assert.Equal(first.BatchId, again.BatchId);
        Assert.Equal(Trigger.Executions.ExecutionName.ForAttempt(first.BatchId, 2), started[1].Name);
        Assert.Equal("SUCCEEDED", started[1].StatusName);
        Assert.Equal(first.Rows, await CountAsync(db, "dashboard.class_daily"));
    }
    [Fact]
    public async Task The_trigger_in_serve_starts_the_execution_over_http_at_the_step_functions_endpoint_which_the_aws_cli_reads()
    {
        // A database of its own, so the batch really loads rather than being found applied already.
        var own = new PostgresDatabase();
        await own.InitializeAsync();
        try
        {
            await using var aws = await StartAsync(own);
            var answered = new System.Collections.Concurrent.ConcurrentQueue<(string Action, int Status)>();
            aws.StepFunctions.Answered += (action, status) => answered.Enqueue((action, status));
            var started = new List<Execution>();
            aws.Engine.ExecutionStarted += started.Add;
            var runner = Runner(aws, new IssuerTokenSource(aws.Issuer, LocalAwsSide.PushServiceAccount));

            var batch = await runner.RunAsync("class_summary", Day);
            var execution = Assert.Single(started);
            await execution.Completion;

            // The trigger looked the first attempt up (none yet: 400 ExecutionDoesNotExist), then started it, both over HTTP.
            Assert.Equal([("DescribeExecution", 400), ("StartExecution", 200)], answered.Take(2));
            Assert.Equal("arn:aws:states:us-east-1:000000000000:stateMachine:writeback-dev", aws.StateMachine.Arn);
            var described = await AwsCli.StepFunctionsAsync(aws.StepFunctions.Url, "describe-execution", "--execution-arn", execution.Arn);
            Assert.True(described.ExitCode == 0, described.Stderr);
            Assert.Equal("SUCCEEDED", (string?)described.Json["status"]);
            Assert.Equal(batch.BatchId, (string?)System.Text.Json.Nodes.JsonNode.Parse((string)described.Json["input"]!)!["batchId"]);
            var machines = await AwsCli.StepFunctionsAsync(aws.StepFunctions.Url, "list-state-machines");
            Assert.Equal(["writeback-dev"], machines.Json["stateMachines"]!.AsArray().Select(m => (string)m!["name"]!));
            Assert.Equal(batch.Rows, await CountAsync(own, "dashboard.class_daily"));
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_push_signed_by_another_key_is_refused_and_starts_nothing()
    {
        await using var aws = await StartAsync();
        var started = 0;
        aws.Engine.ExecutionStarted += _ => started++;
        using var stranger = LocalOidcIssuer.Create();
        var runner = Runner(aws, new IssuerTokenSource(stranger, LocalAwsSide.PushServiceAccount));

        var refused = await Assert.ThrowsAsync<PublishException>(() => runner.RunAsync("class_summary", Day));

        Assert.Equal((int)HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(0, started);
    }

    [Fact]
    public async Task A_malformed_envelope_gets_a_clear_400()
    {
        await using var aws = await StartAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, aws.TriggerUrl)
        {
            Content = new StringContent("{\"message\": \"not an object\"}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", aws.Issuer.MintToken(aws.TriggerUrl.ToString(), LocalAwsSide.PushServiceAccount));

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("message", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Every_refusal_of_the_local_trigger_host_has_a_json_body_with_error_and_message()
    {
        await using var aws = await StartAsync();
        using var http = new HttpClient();
        var other = new Uri(aws.TriggerUrl, "admin");
        using var wrongPath = new HttpRequestMessage(HttpMethod.Post, other) { Content = new StringContent("{}") };
        using var wrongMethod = new HttpRequestMessage(HttpMethod.Put, aws.TriggerUrl) { Content = new StringContent("{}") };
        using var tooLarge = new HttpRequestMessage(HttpMethod.Post, aws.TriggerUrl) { Content = new StringContent(new string('x', 2 * 1024 * 1024)) };
        using var hugeHeaders = new HttpRequestMessage(HttpMethod.Post, aws.TriggerUrl) { Content = new StringContent("{}") };
        hugeHeaders.Headers.Add("x-padding", new string('p', 40 * 1024));

        foreach (var (request, status, error) in new[] { (wrongPath, 404, "not_found"), (wrongMethod, 405, "method_not_allowed"), (tooLarge, 413, "body_too_large"), (hugeHeaders, 431, "headers_too_large") })
        {
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(status, (int)response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var json = System.Text.Json.Nodes.JsonNode.Parse(body)!;
            Assert.Equal(error, (string?)json["error"]);
            Assert.False(string.IsNullOrWhiteSpace((string?)json["message"]), body);
        }
    }

    [Fact]
    public async Task The_local_trigger_refuses_a_manifest_outside_the_export_folder()
    {
        await using var aws = await StartAsync();
        var batch = new Writeback.Core.Contracts.BatchReadyEvent
        {
            Version = 1, BatchId = "class_summary-hostile-1", Dataset = "class_summary", ManifestUri = "file:///etc/passwd", Sequence = 1,
        };
        var data = Convert.ToBase64String(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(batch, Writeback.Core.Contracts.ContractJson.Default.BatchReadyEvent));
        var envelope = "{\"message\":{\"data\":\"" + data + "\"}}";
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, aws.TriggerUrl) { Content = new StringContent(envelope, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", aws.Issuer.MintToken(aws.TriggerUrl.ToString(), LocalAwsSide.PushServiceAccount));

        using var response = await http.SendAsync(request);

        Assert.Equal(422, (int)response.StatusCode);
        Assert.Contains("manifest_untrusted", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private Task<LocalAwsSide> StartAsync(PostgresDatabase? db = null) =>
        LocalAwsSide.StartAsync(
            new LocalAwsSideOptions { ConnectionString = (db ?? database).ConnectionString, IssuerKeyPath = Path.Combine(_state, "oidc.pem"), ExportsFolder = Path.Combine(_state, "exports") },
            CancellationToken.None);

    private (AggregateRunner Runner, TimeProvider Time) Runner(LocalAwsSide aws, IPushTokenSource tokens, TimeProvider time) =>
        (AggregateRunner.CreateLocal(Options(aws, publish: true), tokens, timeProvider: time), time);

    private AggregateRunner Runner(LocalAwsSide aws, IPushTokenSource tokens) => AggregateRunner.CreateLocal(Options(aws, publish: true), tokens);

    private LocalAggregateOptions Options(LocalAwsSide aws, bool publish) => LocalExports.Options(_state, Day, aws, publish);

    private static async Task<long> CountAsync(PostgresDatabase db, string table)
    {
        await using var connection = new Npgsql.NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"SELECT CASE WHEN to_regclass('{table}') IS NULL THEN 0 ELSE (SELECT count(*) FROM {table}) END", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
