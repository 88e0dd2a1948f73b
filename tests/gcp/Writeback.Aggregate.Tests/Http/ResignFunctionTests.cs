using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Apis.Auth.OAuth2;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Writeback.Aggregate.Cloud;
using Writeback.Aggregate.Http;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;

namespace Writeback.Aggregate.Tests.Http;

/// <summary>
/// <c>POST /resign</c> against a fake Cloud Storage speaking the JSON API's documented shapes (objects.list with a
/// prefix, objects.get alt=media, a media upload), with real V4 signing by a generated service-account key.
/// </summary>
public sealed class ResignFunctionTests : IAsyncLifetime
{
    private const string Day = "writeback/student_dashboard/2026-11-25/";
    private const string Folder = Day + "0af7651916cd43dd8448eb211c80319c/";
    private const string OtherFolder = Day + "4bf92f3577b34da6a3ce929d0e0e4736/";
    private static readonly string[] ShardNames = [Folder + "shard-000000000000.parquet", Folder + "shard-000000000001.parquet"];

    private readonly WireMockServer _storage = WireMockServer.Start();
    private readonly RSA _key = RSA.Create(2048);
    private readonly HttpClient _http = new();
    private readonly Manifest _exported = Exported("student_dashboard-20261125-db06ed46a5df-1764108000000");
    private WebApplication? _app;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        Serve(Folder + "manifest.json", JsonSerializer.SerializeToUtf8Bytes(_exported, ContractJson.Default.Manifest));
        Serve(OtherFolder + "manifest.json", JsonSerializer.SerializeToUtf8Bytes(Exported("student_dashboard-20261125-7f3a0c1d2e4b-1764194400000"), ContractJson.Default.Manifest));
        List(Folder, [.. ShardNames, Folder + "manifest.json"]);
        List(Day, [.. ShardNames, Folder + "manifest.json", OtherFolder + "manifest.json"]);
        _storage.Given(Request.Create().WithPath("/upload/storage/v1/b/my-bucket/o").WithParam("uploadType", "media").UsingPost())
            .RespondWith(Response.Create().WithBody("""{"kind":"storage#object","name":"manifest.resigned.json"}"""));

        var signer = GcsV4UrlSigner.FromServiceAccount(new ServiceAccountCredential(
            new ServiceAccountCredential.Initializer("aggregate@my-project.iam.gserviceaccount.com").FromPrivateKey(_key.ExportPkcs8PrivateKeyPem())));
        var options = new CloudExportOptions { ProjectId = "my-project", WarehouseDataset = "warehouse", Bucket = "my-bucket", SignedUrlLifetime = TimeSpan.FromHours(6) };
        var resigner = AggregateRunner.CreateResigner(options, new StaticAccessTokenSource("ya29.token"), signer, _http, new Uri(_storage.Url + "/"));
        _app = AggregateFunction.Build([], _ => throw new InvalidOperationException("no batch runs here"), b => b.WebHost.UseTestServer(), _ => resigner);
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    [Fact]
    public async Task A_manifest_is_re_signed_beside_itself_with_the_same_content_and_fresh_shard_urls_for_the_configured_ttl()
    {
        using var response = await _client.PostAsJsonAsync("/resign", new { manifest = $"gs://my-bucket/{Folder}manifest.json" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(_exported.BatchId, answer.RootElement.GetProperty("batchId").GetString());
        Assert.Equal($"gs://my-bucket/{Folder}manifest.resigned.json", answer.RootElement.GetProperty("copy").GetString());
        var manifestUri = new Uri(answer.RootElement.GetProperty("manifestUri").GetString()!);
        Assert.Equal($"https://storage.googleapis.com/my-bucket/{Folder}manifest.resigned.json", manifestUri.GetLeftPart(UriPartial.Path));
        Assert.Contains("X-Goog-Expires=21600", manifestUri.Query, StringComparison.Ordinal);

        var upload = Uploads().Single();
        Assert.Equal(Folder + "manifest.resigned.json", upload.Query!["name"].Single());
        Assert.Equal("Bearer ya29.token", upload.Headers!["Authorization"].Single());
        var copy = ContractReader.ReadManifest(upload.BodyAsBytes!, "the uploaded copy");
        Assert.Equal(LoadEngine.Fingerprint(_exported), LoadEngine.Fingerprint(copy));
        Assert.Equal(_exported.Sequence, copy.Sequence);
        Assert.Equal(WithoutUris(_exported), WithoutUris(copy));
        foreach (var (shard, name) in copy.Shards.Zip(ShardNames))
        {
            var url = new Uri(shard.Uri);
            Assert.Equal("https://storage.googleapis.com/my-bucket/" + name, url.GetLeftPart(UriPartial.Path));
            Assert.Contains("X-Goog-Expires=21600", url.Query, StringComparison.Ordinal);
            Assert.DoesNotContain("expired", url.Query, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_batch_named_by_dataset_date_and_id_is_found_among_the_days_runs()
    {
        using var response = await _client.PostAsJsonAsync(
            "/resign", new { dataset = "student_dashboard", businessDate = "2026-11-25", batchId = _exported.BatchId });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Folder + "manifest.resigned.json", Uploads().Single().Query!["name"].Single());
        Assert.Equal(Day, Requests("GET", "/storage/v1/b/my-bucket/o").First().Query!["prefix"].Single());
    }

    [Fact]
    public async Task A_batch_id_the_day_does_not_hold_answers_400_naming_the_ones_it_does()
    {
        using var response = await _client.PostAsJsonAsync(
            "/resign", new { dataset = "student_dashboard", businessDate = "2026-11-25", batchId = "student_dashboard-20261125-000000000000-1" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Contains("no manifest of batch 'student_dashboard-20261125-000000000000-1'", error, StringComparison.Ordinal);
        Assert.Contains(_exported.BatchId, error, StringComparison.Ordinal);
        Assert.Empty(Uploads());
    }

    [Theory]
    [InlineData("gs://other-bucket/writeback/student_dashboard/2026-11-25/0af7651916cd43dd8448eb211c80319c/manifest.json")]
    [InlineData("gs://my-bucket/elsewhere/student_dashboard/2026-11-25/run/manifest.json")]
    [InlineData("gs://my-bucket/writeback/../secrets/manifest.json")]
    [InlineData("gs://my-bucket/writeback/student_dashboard/2026-11-25/0af7651916cd43dd8448eb211c80319c/shard-000000000000.parquet")]
    [InlineData("https://storage.googleapis.com/my-bucket/writeback/student_dashboard/2026-11-25/run/manifest.json")]
    public async Task A_path_outside_the_configured_bucket_and_prefix_is_refused_and_nothing_is_read_or_signed(string path)
    {
        using var response = await _client.PostAsJsonAsync("/resign", new { manifest = path });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("other buckets and paths are not signed", await ErrorOf(response), StringComparison.Ordinal);
        Assert.Empty(_storage.LogEntries);
    }

    [Fact]
    public async Task A_manifest_listing_a_shard_of_another_folder_is_refused_and_nothing_is_written()
    {
        var foreign = _exported with { Shards = [_exported.Shards[0] with { Uri = "https://storage.googleapis.com/my-bucket/writeback/other/shard.parquet?X-Goog-Signature=x" }] };
        Serve(Folder + "manifest.json", JsonSerializer.SerializeToUtf8Bytes(foreign, ContractJson.Default.Manifest));

        using var response = await _client.PostAsJsonAsync("/resign", new { manifest = $"gs://my-bucket/{Folder}manifest.json" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("lists a shard outside its folder", await ErrorOf(response), StringComparison.Ordinal);
        Assert.Empty(Uploads());
    }

    [Fact]
    public async Task A_batch_whose_shards_the_bucket_deleted_is_refused_naming_them_and_nothing_is_written()
    {
        List(Folder, [Folder + "manifest.json", ShardNames[0]]);

        using var response = await _client.PostAsJsonAsync("/resign", new { manifest = $"gs://my-bucket/{Folder}manifest.json" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Contains($"no longer retained: {ShardNames[1]}", error, StringComparison.Ordinal);
        Assert.Contains("shard_retention_days", error, StringComparison.Ordinal);
        Assert.Empty(Uploads());
    }

    [Fact]
    public async Task A_manifest_the_bucket_deleted_answers_400_with_the_retention_setting()
    {
        using var response = await _client.PostAsJsonAsync("/resign", new { manifest = $"gs://my-bucket/{Day}gone/manifest.json" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
        Assert.Contains("shard_retention_days", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_local_function_refuses_to_re_sign_because_local_links_do_not_expire()
    {
        await using var local = AggregateFunction.Build([], _ => throw new InvalidOperationException("no batch runs here"), b => b.WebHost.UseTestServer());
        await local.StartAsync();

        using var response = await local.GetTestClient().PostAsync("/resign", new StringContent($$"""{"manifest":"gs://my-bucket/{{Folder}}manifest.json"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("WRITEBACK_MODE=cloud", await ErrorOf(response), StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _storage.Stop();
        _storage.Dispose();
        _http.Dispose();
        _key.Dispose();
    }

    /// <summary>What the exporter wrote six hours and more ago: shard URLs whose signature has expired.</summary>
    private static Manifest Exported(string batchId) => new()
    {
        Version = Manifest.CurrentVersion,
        BatchId = batchId,
        Dataset = "student_dashboard",
        Partition = "2026-11-25",
        GeneratedAt = DateTimeOffset.FromUnixTimeMilliseconds(1764108000000),
        Sequence = 1764108000000,
        Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        SchemaVersion = Datasets.StudentDashboard.SchemaVersion,
        Schema = Datasets.StudentDashboard.Columns,
        Shards = ShardNames.Select((name, i) => new ShardEntry
        {
            Uri = $"https://storage.googleapis.com/my-bucket/{name}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Date=20261125T220000Z&X-Goog-Expires=21600&X-Goog-Signature=expired{i}",
            Rows = 1000 + i,
            Bytes = 40_000 + i,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name))),
        }).ToList(),
    };

    private static async Task<string> ErrorOf(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("error").GetString()!;
    }

    private static string WithoutUris(Manifest manifest) =>
        JsonSerializer.Serialize(manifest with { Shards = manifest.Shards.Select(s => s with { Uri = "" }).ToList() }, ContractJson.Default.Manifest);

    // The object name is one escaped path segment (%2F); matching its parts either side of each slash holds however the fake decodes it.
    private void Serve(string name, byte[] body) =>
        _storage.Given(Request.Create().WithPath(new WildcardMatcher("/storage/v1/b/my-bucket/o/" + string.Join('*', name.Split('/')))).WithParam("alt", "media").UsingGet())
            .RespondWith(Response.Create().WithBody(body));

    private void List(string prefix, IEnumerable<string> names) =>
        _storage.Given(Request.Create().WithPath("/storage/v1/b/my-bucket/o").WithParam("prefix", prefix).UsingGet())
            .RespondWith(Response.Create().WithBody(JsonSerializer.Serialize(new
            {
                kind = "storage#objects",
                items = names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => new { kind = "storage#object", name = n, bucket = "my-bucket", size = "40000" }),
            })));

    private List<WireMock.IRequestMessage> Uploads() => Requests("POST", "/upload/storage/v1/b/my-bucket/o");

    private List<WireMock.IRequestMessage> Requests(string method, string path) =>
        _storage.LogEntries.Select(e => e.RequestMessage).Where(r => r.Method == method && r.Path == path).ToList();
}
