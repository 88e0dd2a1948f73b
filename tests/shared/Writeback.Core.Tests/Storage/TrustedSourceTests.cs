using System.Text.Json;
using Writeback.Core.Contracts;
using Writeback.Core.Storage;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Storage;

/// <summary>Prepare, against a real PostgreSQL, refuses what lies outside the bucket and prefix and fetches nothing from it.</summary>
public sealed class TrustedSourceTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private const string Signature = "X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=c&X-Goog-Signature=SECRETSIGNATURE";

    private readonly LoopbackServer _storage = new();
    private readonly LoopbackServer _foreign = new();

    public void Dispose()
    {
        _storage.Dispose();
        _foreign.Dispose();
    }

    private SourcePolicy Bucket => SourcePolicy.Gcs("exports", "writeback", new Uri(_storage.Url + "/"));

    private static string ManifestJson(string dataset, string shardUri) => JsonSerializer.Serialize(new Manifest
    {
        Version = 1,
        BatchId = "trusted-1",
        Dataset = dataset,
        Partition = "2026-11-01",
        GeneratedAt = DateTimeOffset.UtcNow,
        Sequence = 1,
        Schema = ScoresSchema,
        Shards = [new ShardEntry { Uri = shardUri, Rows = 1, Bytes = 10, Sha256 = new string('a', 64) }],
    }, ContractJson.Default.Manifest);

    [Fact]
    public async Task Prepare_refuses_a_manifest_in_another_bucket_as_an_invalid_batch_and_fetches_nothing()
    {
        var target = ScoresTarget("trusted_bucket", LoadMode.ReplacePartition);
        _storage.AnswerBody("/other/writeback/b/manifest.json", ManifestJson(target.Dataset, "s.parquet"));
        var engine = CreateEngine(database.ConnectionString, Bucket, target);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => engine.PrepareAsync($"{_storage.Url}/other/writeback/b/manifest.json?{Signature}", "trusted-1", null, default));

        Assert.Contains("bucket 'other'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETSIGNATURE", error.Message, StringComparison.Ordinal);
        Assert.Empty(_storage.Requests);
    }

    [Fact]
    public async Task Prepare_refuses_a_manifest_whose_shard_is_outside_the_prefix_and_nothing_reaches_the_product_table()
    {
        var target = ScoresTarget("trusted_shard", LoadMode.ReplacePartition);
        _storage.AnswerBody("/exports/writeback/b/manifest.json", ManifestJson(target.Dataset, $"{_storage.Url}/exports/elsewhere/b/s.parquet?{Signature}"));
        var engine = CreateEngine(database.ConnectionString, Bucket, target);

        var error = await Assert.ThrowsAsync<InvalidBatchException>(() => engine.PrepareAsync($"{_storage.Url}/exports/writeback/b/manifest.json?{Signature}", "trusted-1", null, default));

        Assert.Contains("outside the configured prefix", error.Message, StringComparison.Ordinal);
        Assert.Equal(["/exports/writeback/b/manifest.json?" + Signature], _storage.Requests);
        Assert.False(await ScalarAsync<bool>(database.ConnectionString, "SELECT to_regclass('test.trusted_shard') IS NOT NULL"));
    }
}
