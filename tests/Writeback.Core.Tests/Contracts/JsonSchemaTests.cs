using System.Text.Json;
using Json.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Tests.Contracts;

/// <summary>The committed JSON Schemas describe what the strict readers accept, so other teams can validate early.</summary>
public sealed class JsonSchemaTests
{
    private static readonly Lazy<(JsonSchema Manifest, JsonSchema Target, JsonSchema Event)> Schemas = new(() =>
    {
        var folder = Path.Combine(ContractReaderTests.RepositoryFolder("contracts"), "schemas");
        return (
            JsonSchema.FromFile(Path.Combine(folder, "manifest.v1.schema.json")),
            JsonSchema.FromFile(Path.Combine(folder, "target.v1.schema.json")),
            JsonSchema.FromFile(Path.Combine(folder, "batch-ready-event.v1.schema.json")));
    });

    private static bool Valid(JsonSchema schema, string json) =>
        schema.Evaluate(JsonDocument.Parse(json).RootElement, new EvaluationOptions()).IsValid;

    private static string SampleManifest => JsonSerializer.Serialize(new Manifest
    {
        Version = 1,
        BatchId = "student_dashboard-2026-11-01-000003",
        Dataset = "student_dashboard",
        Partition = "2026-11-01",
        GeneratedAt = DateTimeOffset.Parse("2026-11-01T20:00:00Z"),
        Sequence = 3,
        Schema = [new ShardColumn { Name = "student_id", Type = "bigint" }, new ShardColumn { Name = "average_score", Type = "numeric(5,2)" }],
        Shards = [new ShardEntry { Uri = "shard-00000.parquet", Rows = 1, Bytes = 10, Sha256 = new string('a', 64) }],
    }, ContractJson.Default.Manifest);

    [Fact]
    public void The_repository_targets_match_the_target_schema()
    {
        foreach (var file in Directory.EnumerateFiles(ContractReaderTests.RepositoryFolder("targets"), "*.json"))
        {
            Assert.True(Valid(Schemas.Value.Target, File.ReadAllText(file)), file);
        }
    }

    [Fact]
    public void A_manifest_the_writers_produce_matches_the_manifest_schema() => Assert.True(Valid(Schemas.Value.Manifest, SampleManifest));

    [Theory]
    [InlineData("\"version\": 1", "\"version\": 2")]
    [InlineData("\"sequence\": 3,", "\"sequence\": 3, \"table\": \"x\",")]
    [InlineData("\"type\": \"bigint\"", "\"type\": \"bigint; drop table x\"")]
    [InlineData("\"sha256\": \"aaaa", "\"sha256\": \"AAAA")]
    public void The_manifest_schema_rejects_what_the_reader_rejects(string from, string to)
    {
        var bad = SampleManifest.Replace(from, to);
        Assert.NotEqual(SampleManifest, bad);

        Assert.False(Valid(Schemas.Value.Manifest, bad));
        Assert.ThrowsAny<Exception>(() => ContractReader.ReadManifest(System.Text.Encoding.UTF8.GetBytes(bad), "test"));
    }

    [Fact]
    public void A_batch_ready_event_matches_its_schema()
    {
        var json = JsonSerializer.Serialize(new BatchReadyEvent { Version = 1, BatchId = "b-1", Dataset = "d", ManifestUri = "file:///x/manifest.json", Sequence = 1 }, ContractJson.Default.BatchReadyEvent);

        Assert.True(Valid(Schemas.Value.Event, json));
        Assert.False(Valid(Schemas.Value.Event, json.Replace("\"sequence\"", "\"seq\"")));
    }
}
