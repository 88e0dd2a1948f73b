using System.Security.Cryptography;
using System.Text.Json;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Writeback.Aggregate.Cloud;
using Writeback.Aggregate.Export;
using Writeback.Core.Contracts;

namespace Writeback.Aggregate.Tests.Cloud;

/// <summary>The whole cloud path against fakes of BigQuery, Cloud Storage and Pub/Sub speaking the documented REST shapes.</summary>
[Collection(SmallWarehouseGroup.Name)]
public sealed class BigQueryBatchExporterTests(SmallWarehouse warehouse) : IAsyncLifetime
{
    private const string Folder = "writeback/student_dashboard/2026-11-25/run/";
    private readonly WireMockServer _google = WireMockServer.Start();
    private readonly HttpClient _http = new();
    private List<(string Name, byte[] Bytes, long Rows)> _shards = [];

    public async Task InitializeAsync()
    {
        // Real Parquet files, as BigQuery would have written them, served as GCS objects.
        var local = await new LocalBatchExporter(new LocalExportOptions { WarehousePath = warehouse.Path, OutputRoot = warehouse.NewOutputFolder(), MaxShardBytes = 48 * 1024 })
            .ExportAsync(Datasets.StudentDashboard, SmallWarehouse.Anchor, BatchIdentity.NewTraceparent(), CancellationToken.None);
        var directory = Path.GetDirectoryName(new Uri(local.ManifestUri).LocalPath)!;
        _shards = local.Manifest.Shards
            .Select((s, i) => ($"{Folder}shard-{i:D12}.parquet", File.ReadAllBytes(Path.Combine(directory, s.Uri)), s.Rows))
            .ToList();
        Assert.True(_shards.Count >= 2);

        _google.Given(Request.Create().WithPath("/bigquery/v2/projects/my-project/jobs").UsingPost())
            .RespondWith(Response.Create().WithBody(Job("RUNNING", error: null)));
        var list = JsonSerializer.Serialize(new
        {
            kind = "storage#objects",
            items = _shards.Select(s => new { kind = "storage#object", name = s.Name, bucket = "my-bucket", size = s.Bytes.Length.ToString(), md5Hash = Md5(s.Bytes) })
                .Append(new { kind = "storage#object", name = Folder + "_SUCCESS", bucket = "my-bucket", size = "0", md5Hash = "" }),
        });
        _google.Given(Request.Create().WithPath("/storage/v1/b/my-bucket/o").UsingGet())
            .RespondWith(Response.Create().WithBody(list));
        foreach (var (name, bytes, _) in _shards)
        {
            var file = new WildcardMatcher("/storage/v1/b/my-bucket/o/*" + Path.GetFileName(name));
            _google.Given(Request.Create().WithPath(file).WithParam("alt", "media").UsingGet())
                .AtPriority(10)
                .RespondWith(Response.Create().WithBody(bytes));
            _google.Given(Request.Create().WithPath(file).WithParam("alt", "media").WithHeader("Range", $"bytes=-{bytes.Length}").UsingGet())
                .AtPriority(1)
                .RespondWith(Response.Create().WithStatusCode(206).WithBody(bytes));
        }

        _google.Given(Request.Create().WithPath("/upload/storage/v1/b/my-bucket/o").WithParam("uploadType", "media").UsingPost())
            .RespondWith(Response.Create().WithBody("""{"kind":"storage#object","name":"manifest.json"}"""));
        _google.Given(Request.Create().WithPath("/v1/projects/my-project/topics/batch-ready:publish").UsingPost())
            .RespondWith(Response.Create().WithBody("""{"messageIds":["1234567"]}"""));
    }

    [Fact]
    public async Task A_cloud_run_exports_with_BigQuery_lists_what_was_written_and_publishes_a_signed_manifest()
    {
        JobWillFinish(error: null);

        var result = await Runner().RunAsync("student_dashboard", SmallWarehouse.Anchor);

        var insert = Requests("POST", "/bigquery/v2/projects/my-project/jobs").Single();
        Assert.Equal("Bearer ya29.token", insert.Headers!["Authorization"].Single());
        using (var body = JsonDocument.Parse(insert.Body!))
        {
            var reference = body.RootElement.GetProperty("jobReference");
            Assert.Matches("^writeback_student_dashboard_20261125_[0-9a-f]{32}$", reference.GetProperty("jobId").GetString());
            Assert.Equal("asia-northeast1", reference.GetProperty("location").GetString());
            var sql = body.RootElement.GetProperty("configuration").GetProperty("query").GetProperty("query").GetString()!;
            Assert.Matches(@"^EXPORT DATA OPTIONS\(uri='gs://my-bucket/writeback/student_dashboard/2026-11-25/[0-9a-f]{32}/shard-\*\.parquet', format='PARQUET', overwrite=true\) AS\nWITH enrolled_students AS \(", sql);
            Assert.Contains("FROM `my-project.warehouse.study_sessions`", sql, StringComparison.Ordinal);
            Assert.False(body.RootElement.GetProperty("configuration").GetProperty("query").GetProperty("useLegacySql").GetBoolean());
        }

        Assert.Contains(Requests("GET", "/bigquery/v2/projects/my-project/jobs/job_x"), r => r.Query!["location"].Single() == "asia-northeast1");
        var listed = Requests("GET", "/storage/v1/b/my-bucket/o").Single();
        Assert.Matches("^writeback/student_dashboard/2026-11-25/[0-9a-f]{32}/$", listed.Query!["prefix"].Single());

        var upload = Requests("POST", "/upload/storage/v1/b/my-bucket/o").Single();
        Assert.EndsWith("/manifest.json", upload.Query!["name"].Single(), StringComparison.Ordinal);
        var manifest = JsonSerializer.Deserialize(upload.BodyAsBytes!, ContractJson.Default.Manifest)!;
        Assert.Equal(_shards.Count, manifest.Shards.Count);
        // Signed for the default lifetime, 6 h, as infra deploys it.
        foreach (var (entry, (name, bytes, rows)) in manifest.Shards.Zip(_shards))
        {
            Assert.Equal($"https://signed.example/my-bucket/{name}?ttl=21600", entry.Uri);
            Assert.Equal(bytes.Length, entry.Bytes);
            Assert.Equal(rows, entry.Rows);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), entry.Sha256);
        }

        Assert.Equal(Datasets.StudentDashboard.Columns, manifest.Schema);
        Assert.Equal("2026-11-25", manifest.Partition);
        Assert.Matches("^student_dashboard-20261125-[0-9a-f]{12}-[0-9]+$", manifest.BatchId);

        var publish = Requests("POST", "/v1/projects/my-project/topics/batch-ready:publish").Single();
        using var published = JsonDocument.Parse(publish.Body!);
        var message = published.RootElement.GetProperty("messages")[0];
        Assert.Equal(manifest.BatchId, message.GetProperty("attributes").GetProperty("batchId").GetString());
        Assert.Equal("2026-11-25", message.GetProperty("attributes").GetProperty("businessDate").GetString());
        Assert.Equal(manifest.Traceparent, message.GetProperty("attributes").GetProperty("traceparent").GetString());
        var readyEvent = JsonSerializer.Deserialize(Convert.FromBase64String(message.GetProperty("data").GetString()!), ContractJson.Default.BatchReadyEvent)!;
        Assert.Equal($"https://signed.example/my-bucket/{upload.Query["name"].Single()}?ttl=21600", readyEvent.ManifestUri);
        Assert.Equal(manifest.Sequence, readyEvent.Sequence);

        Assert.Equal(manifest.BatchId, result.BatchId);
        Assert.Equal("1234567", result.MessageId);
        Assert.Equal(_shards.Sum(s => s.Rows), result.Rows);
        Assert.Equal(readyEvent.ManifestUri, result.ManifestUri);
    }

    [Fact]
    public async Task The_same_exported_files_later_are_a_new_batch_whose_id_shows_the_same_content()
    {
        JobWillFinish(error: null);
        var at = new DateTimeOffset(2026, 11, 25, 22, 0, 0, TimeSpan.Zero);

        var first = await Runner(new FixedTime(at)).RunAsync("student_dashboard", SmallWarehouse.Anchor);
        var again = await Runner(new FixedTime(at)).RunAsync("student_dashboard", SmallWarehouse.Anchor);
        var later = await Runner(new FixedTime(at.AddHours(1))).RunAsync("student_dashboard", SmallWarehouse.Anchor);

        Assert.Equal(first.BatchId, again.BatchId);
        Assert.NotEqual(first.BatchId, later.BatchId);
        Assert.Equal(first.BatchId.Split('-')[2], later.BatchId.Split('-')[2]);
        Assert.EndsWith("-" + at.AddHours(1).ToUnixTimeMilliseconds(), later.BatchId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_export_job_fails_the_run_and_nothing_is_listed_written_or_published()
    {
        JobWillFinish(error: """{"reason":"accessDenied","message":"Access Denied: BigQuery BigQuery: Permission denied while writing data."}""");

        var error = await Assert.ThrowsAsync<BigQueryJobFailedException>(() => Runner().RunAsync("student_dashboard", SmallWarehouse.Anchor));

        Assert.Equal("accessDenied", error.Reason);
        Assert.Empty(Requests("GET", "/storage/v1/b/my-bucket/o"));
        Assert.Empty(Requests("POST", "/upload/storage/v1/b/my-bucket/o"));
        Assert.Empty(Requests("POST", "/v1/projects/my-project/topics/batch-ready:publish"));
    }

    public Task DisposeAsync()
    {
        _google.Stop();
        _google.Dispose();
        _http.Dispose();
        return Task.CompletedTask;
    }

    private AggregateRunner Runner(TimeProvider? time = null)
    {
        var google = new Uri(_google.Url + "/");
        return AggregateRunner.CreateCloud(
            new CloudAggregateOptions
            {
                Export = new CloudExportOptions
                {
                    ProjectId = "my-project",
                    WarehouseDataset = "warehouse",
                    Location = "asia-northeast1",
                    Bucket = "my-bucket",
                    PollInterval = TimeSpan.Zero,
                },
                Topic = "batch-ready",
                BigQueryBaseUri = google,
                StorageBaseUri = google,
                PubSubBaseUri = google,
            },
            new StaticAccessTokenSource("ya29.token"),
            new FakeSigner(),
            _http,
            time);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private void JobWillFinish(string? error) =>
        _google.Given(Request.Create().WithPath("/bigquery/v2/projects/my-project/jobs/job_x").UsingGet())
            .RespondWith(Response.Create().WithBody(Job("DONE", error)));

    private List<WireMock.IRequestMessage> Requests(string method, string path) =>
        _google.LogEntries.Select(e => e.RequestMessage).Where(r => r.Method == method && r.Path == path).ToList();

    private static string Job(string state, string? error) =>
        $$$"""{"kind":"bigquery#job","id":"my-project:asia-northeast1.job_x","jobReference":{"projectId":"my-project","jobId":"job_x","location":"asia-northeast1"},"status":{"state":"{{{state}}}"{{{(error is null ? "" : ",\"errorResult\":" + error)}}}}}""";

    // GCS reports MD5 in listings; the exporter ignores it (it needs SHA-256), so this is only shape.
#pragma warning disable CA5351
    private static string Md5(byte[] bytes) => Convert.ToBase64String(MD5.HashData(bytes));
#pragma warning restore CA5351

    private sealed class FakeSigner : IObjectUrlSigner
    {
        public Task<string> SignGetAsync(string bucket, string objectName, TimeSpan lifetime, CancellationToken cancellationToken) =>
            Task.FromResult($"https://signed.example/{bucket}/{objectName}?ttl={lifetime.TotalSeconds}");
    }
}
