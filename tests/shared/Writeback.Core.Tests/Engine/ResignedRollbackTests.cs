using System.Text.Json;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>
/// A rollback past the signed URLs' lifetime reads a re-signed copy of the earlier manifest (the aggregate function's
/// <c>POST /resign</c>): other shard URLs, the same batch. Served over real HTTP on loopback, as signed URLs are.
/// </summary>
public sealed class ResignedRollbackTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private const string Partition = "2026-11-01";
    private readonly TestBatches _batches = new();
    private readonly LoopbackServer _bucket = new();

    public void Dispose()
    {
        _bucket.Dispose();
        _batches.Dispose();
    }

    [Fact]
    public async Task A_re_signed_manifest_of_an_applied_batch_is_the_same_content_and_rolls_back()
    {
        var target = ScoresTarget("rb_resigned", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var a = Scores(Day1, 300);
        var manifestA = await _batches.WriteScoresAsync(
            "rb_resigned-a1", target.Dataset, [[.. a.Take(150)], [.. a.Skip(150)]], Partition, sequence: 1, edit: m => Signed(m, "first"));
        var folderA = Path.GetDirectoryName(manifestA)!;
        foreach (var name in new[] { "manifest.json", "shard-00000.parquet", "shard-00001.parquet" })
        {
            _bucket.Answer("/a/" + name, response => response.OutputStream.Write(File.ReadAllBytes(Path.Combine(folderA, name))));
        }

        await RunAsync(engine, $"{_bucket.Url}/a/manifest.json?X-Goog-Signature=m1");
        var asA = await TableDigestAsync(database.ConnectionString, target.Table);
        await RunAsync(engine, await _batches.WriteScoresAsync("rb_resigned-b2", target.Dataset, [[.. a.Take(100)]], Partition, sequence: 2));
        Assert.NotEqual(asA, await TableDigestAsync(database.ConnectionString, target.Table));

        // What /resign writes beside the manifest: the same JSON with every shard signed again.
        var original = ContractReader.ReadManifest(await File.ReadAllBytesAsync(manifestA), manifestA);
        var resigned = Signed(original with { Shards = [.. original.Shards.Select(s => s with { Uri = s.Uri[(s.Uri.LastIndexOf('/') + 1)..s.Uri.IndexOf('?', StringComparison.Ordinal)] })] }, "second");
        Assert.NotEqual(original.Shards[0].Uri, resigned.Shards[0].Uri);
        Assert.Equal(LoadEngine.Fingerprint(original), LoadEngine.Fingerprint(resigned));
        _bucket.AnswerBody("/a/manifest.resigned.json", JsonSerializer.Serialize(resigned, ContractJson.Default.Manifest));

        var result = await RunAsync(
            engine, $"{_bucket.Url}/a/manifest.resigned.json?X-Goog-Signature=m2", new RollbackRequest("rb_resigned-b2", "alice", "B dropped two thirds of the day"));

        Assert.Equal(PublishStatus.Applied, result.Status);
        Assert.Equal(asA, await TableDigestAsync(database.ConnectionString, target.Table));
        Assert.Equal("rb_resigned-a1", await ScalarAsync<string>(database.ConnectionString, $"SELECT batch_id FROM writeback.watermarks WHERE target = '{target.Table}'"));
        Assert.Contains(_bucket.Requests, r => r.StartsWith("/a/shard-00001.parquet?", StringComparison.Ordinal) && r.Contains("X-Goog-Signature=second", StringComparison.Ordinal));
    }

    /// <summary>Shard URIs as the bucket's signed URLs: the same objects, a query string that differs per signing.</summary>
    private Manifest Signed(Manifest manifest, string signature) => manifest with
    {
        Shards = [.. manifest.Shards.Select(s => s with { Uri = $"{_bucket.Url}/a/{s.Uri}?X-Goog-Expires=21600&X-Goog-Signature={signature}" })],
    };
}
