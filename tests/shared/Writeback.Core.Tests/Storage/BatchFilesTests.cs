using System.Security.Cryptography;
using System.Text.Json;
using Writeback.Core.Contracts;
using Writeback.Core.Storage;
using Writeback.Core.Tests.Support;

namespace Writeback.Core.Tests.Storage;

/// <summary>Reading through the policy: real files and a real HTTP server standing in for the storage endpoint.</summary>
public sealed class BatchFilesTests : IDisposable
{
    private const string Signature = "X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=c&X-Goog-Signature=SECRETSIGNATURE";

    private readonly string _root = Directory.CreateTempSubdirectory("writeback-files-").FullName;
    private readonly LoopbackServer _storage = new();
    private readonly LoopbackServer _foreign = new();
    private readonly HttpClient _http = BatchFiles.CreateHttpClient(TimeSpan.FromSeconds(30));

    public void Dispose()
    {
        _http.Dispose();
        _storage.Dispose();
        _foreign.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private SourcePolicy Bucket => SourcePolicy.Gcs("exports", "writeback", new Uri(_storage.Url + "/"));

    private string BucketUrl(string name) => $"{_storage.Url}/exports/writeback/{name}?{Signature}";

    private static string ManifestJson(params string[] shardUris) => JsonSerializer.Serialize(new Manifest
    {
        Version = 1,
        BatchId = "b-1",
        Dataset = "d",
        GeneratedAt = DateTimeOffset.Parse("2026-11-25T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        Sequence = 1,
        Schema = [new ShardColumn { Name = "id", Type = "bigint" }],
        Shards = [.. shardUris.Select(u => new ShardEntry { Uri = u, Rows = 1, Bytes = 4, Sha256 = Convert.ToHexStringLower(SHA256.HashData("abcd"u8)) })],
    }, ContractJson.Default.Manifest);

    private void ServeManifest(string name, string json) =>
        _storage.AnswerBody($"/exports/writeback/{name}", json);

    [Fact]
    public async Task A_manifest_on_a_foreign_host_is_refused_and_nothing_is_fetched_from_it()
    {
        _foreign.AnswerBody("/exports/writeback/b/manifest.json", ManifestJson("s.parquet"));
        var files = new BatchFiles(_http, Bucket);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => files.ReadManifestAsync($"{_foreign.Url}/exports/writeback/b/manifest.json?{Signature}", default));

        // The stand-in foreign host is on loopback too, which the cloud policy refuses by itself.
        Assert.Contains("never a storage host", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETSIGNATURE", error.Message, StringComparison.Ordinal);
        Assert.Empty(_foreign.Requests);
    }

    [Fact]
    public async Task A_manifest_that_lists_a_shard_on_a_foreign_host_is_refused_before_any_shard_is_fetched()
    {
        ServeManifest("b/manifest.json", ManifestJson(BucketUrl("b/shard-0.parquet"), $"{_foreign.Url}/exports/writeback/b/shard-1.parquet?{Signature}"));
        var files = new BatchFiles(_http, Bucket);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => files.ReadManifestAsync(BucketUrl("b/manifest.json"), default));

        Assert.Contains("field 'shards[1].uri'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETSIGNATURE", error.Message, StringComparison.Ordinal);
        Assert.Empty(_foreign.Requests);
    }

    [Fact]
    public async Task A_manifest_whose_shard_sits_in_another_folder_of_the_bucket_is_refused()
    {
        ServeManifest("b/manifest.json", ManifestJson(BucketUrl("other/shard-0.parquet")));
        var files = new BatchFiles(_http, Bucket);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => files.ReadManifestAsync(BucketUrl("b/manifest.json"), default));

        Assert.Contains("not beside its manifest", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redirect_from_the_storage_endpoint_is_not_followed()
    {
        _storage.Answer("/exports/writeback/b/manifest.json", response => response.Redirect($"{_foreign.Url}/latest/meta-data/"));
        var files = new BatchFiles(_http, Bucket);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => files.ReadManifestAsync(BucketUrl("b/manifest.json"), default));

        Assert.Contains("redirects are not followed", error.Message, StringComparison.Ordinal);
        Assert.Empty(_foreign.Requests);
    }

    [Fact]
    public async Task An_https_url_on_a_port_that_speaks_plain_http_is_an_invalid_batch_not_a_retry()
    {
        var plain = new Uri(_storage.Url + "/");
        var files = new BatchFiles(_http, SourcePolicy.Gcs("exports", "writeback", new Uri($"https://127.0.0.1:{plain.Port}/")));

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => files.ReadManifestAsync($"https://127.0.0.1:{plain.Port}/exports/writeback/b/manifest.json?{Signature}", default));

        Assert.Contains("no TLS connection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_larger_than_its_cap_is_an_invalid_batch()
    {
        var path = Path.Combine(_root, "manifest.json");
        await File.WriteAllTextAsync(path, ManifestJson("s.parquet") + new string(' ', 4096));
        var files = new BatchFiles(_http, SourcePolicy.LocalFolder(_root).WithLimits(maxManifestBytes: 1024, maxShards: 10));

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => files.ReadManifestAsync(path, default));

        Assert.Contains("larger than 1024 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_endless_manifest_such_as_dev_zero_fails_at_the_cap_instead_of_filling_memory()
    {
        // Only a policy whose folder is /dev itself lets /dev/zero through; the cap is what stops it then.
        var files = new BatchFiles(_http, SourcePolicy.LocalFolder("/dev").WithLimits(maxManifestBytes: 64 * 1024, maxShards: 10));

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => files.ReadManifestAsync("file:///dev/zero", default));

        Assert.Contains("larger than 65536 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_storage_answer_that_declares_more_than_the_cap_is_refused_before_its_body_is_read()
    {
        ServeManifest("b/manifest.json", new string(' ', 10_000));
        var files = new BatchFiles(_http, Bucket.WithLimits(maxManifestBytes: 1000, maxShards: 10));

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => files.ReadManifestAsync(BucketUrl("b/manifest.json"), default));

        Assert.Contains("declares 10000 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_with_more_shards_than_the_policy_allows_is_refused()
    {
        var path = Path.Combine(_root, "manifest.json");
        await File.WriteAllTextAsync(path, ManifestJson("a.parquet", "b.parquet", "c.parquet"));
        var files = new BatchFiles(_http, SourcePolicy.LocalFolder(_root).WithLimits(maxManifestBytes: 1 << 20, maxShards: 2));

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => files.ReadManifestAsync(path, default));

        Assert.Contains("lists 3 shards; at most 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_shard_longer_than_its_manifest_says_is_refused_after_reading_one_byte_more()
    {
        var path = Path.Combine(_root, "manifest.json");
        await File.WriteAllTextAsync(path, ManifestJson("s.parquet"));
        await File.WriteAllBytesAsync(Path.Combine(_root, "s.parquet"), new byte[1_000_000]);
        var files = new BatchFiles(_http, SourcePolicy.LocalFolder(_root));
        var manifest = await files.ReadManifestAsync(path, default);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => files.FetchShardAsync(path, manifest.Shards[0], "shard 0", default));

        Assert.Contains("more than the 4 bytes the manifest says", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_shard_that_is_a_link_out_of_the_export_folder_is_refused_without_being_read()
    {
        var path = Path.Combine(_root, "manifest.json");
        await File.WriteAllTextAsync(path, ManifestJson("s.parquet"));
        File.CreateSymbolicLink(Path.Combine(_root, "s.parquet"), "/etc/passwd");
        var files = new BatchFiles(_http, SourcePolicy.LocalFolder(_root));

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => files.ReadManifestAsync(path, default));

        Assert.Contains("outside the export folder", error.Message, StringComparison.Ordinal);
    }
}
