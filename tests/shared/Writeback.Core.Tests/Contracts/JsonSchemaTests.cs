using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Writeback.Core.Contracts;
using Writeback.Testing;

namespace Writeback.Core.Tests.Contracts;

/// <summary>The committed JSON Schemas describe what the strict readers accept, so other teams can validate early.</summary>
public sealed class JsonSchemaTests
{
    private static readonly Lazy<(JsonSchema Manifest, JsonSchema Target, JsonSchema Event)> Schemas = new(() => (
        CommittedSchemas.Get("manifest.v1.schema.json"), CommittedSchemas.Get("target.v1.schema.json"), CommittedSchemas.Get("batch-ready-event.v1.schema.json")));

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
        foreach (var file in Directory.EnumerateFiles(RepositoryRoot.Of("targets"), "*.json"))
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

/// <summary>
/// The schemas and the strict readers agree, checked on the very same documents: what one refuses, the other does too,
/// and the bounds the schemas state are the readers' constants.
/// </summary>
public sealed class SchemaReaderAgreementTests
{
    private static readonly string Folder = Path.Combine(RepositoryRoot.Of("contracts"), "schemas");

    private static JsonSchema Schema(string name) => CommittedSchemas.Get(name);

    private static bool SchemaAccepts(string schema, string json) =>
        Schema(schema).Evaluate(JsonDocument.Parse(json).RootElement, new EvaluationOptions()).IsValid;

    private const string Event =
        """{"version":1,"batchId":"b-1","dataset":"student_dashboard","partition":"2026-11-25","manifestUri":"file:///x/manifest.json","sequence":3}""";

    private static readonly string Manifest =
        """{"version":1,"batchId":"b-1","dataset":"d","generatedAt":"2026-11-01T20:00:00Z","sequence":3,"schema":[{"name":"id","type":"bigint"}],"shards":[{"uri":"shard-00000.parquet","rows":1,"bytes":10,"sha256":"SHA"}]}"""
            .Replace("SHA", new string('a', 64), StringComparison.Ordinal);

    private const string Target =
        """{"version":1,"dataset":"d","table":"s.t","columns":[{"name":"id","type":"bigint","nullable":false}],"key":["id"],"loadMode":"upsert"}""";

    private static bool EventReaderAccepts(string json) => Accepts(() => ContractReader.ReadBatchReadyEvent(Encoding.UTF8.GetBytes(json)));

    private static bool ManifestReaderAccepts(string json) => Accepts(() => ContractReader.ReadManifest(Encoding.UTF8.GetBytes(json), "test"));

    private static bool TargetReaderAccepts(string json) => Accepts(() => ContractReader.ReadTarget(Encoding.UTF8.GetBytes(json), "test"));

    private static bool Accepts(Action read)
    {
        try
        {
            read();
            return true;
        }
        catch (Exception e) when (e is InvalidBatchException or ContractException)
        {
            return false;
        }
    }

    [Fact]
    public void The_good_documents_are_accepted_by_both_schema_and_reader()
    {
        Assert.True(SchemaAccepts("batch-ready-event.v1.schema.json", Event) && EventReaderAccepts(Event));
        Assert.True(SchemaAccepts("manifest.v1.schema.json", Manifest) && ManifestReaderAccepts(Manifest));
        Assert.True(SchemaAccepts("target.v1.schema.json", Target) && TargetReaderAccepts(Target));
    }

    [Theory]
    [InlineData("\"version\":1", "\"version\":\"1\"")]
    [InlineData("\"batchId\"", "\"BatchId\"")]
    [InlineData("\"manifestUri\"", "\"manifesturi\"")]
    [InlineData("\"sequence\":3", "\"sequence\":-1")]
    [InlineData("\"sequence\":3", "\"sequence\":\"3\"")]
    [InlineData("\"sequence\":3", "\"sequence\":3.5")]
    [InlineData("\"dataset\":\"student_dashboard\"", "\"dataset\":\" \"")]
    [InlineData("\"partition\":\"2026-11-25\"", "\"partition\":\"LONG65\"")]
    [InlineData("\"manifestUri\":\"file:///x/manifest.json\"", "\"manifestUri\":\"file:///LONG4097\"")]
    [InlineData("\"batchId\":\"b-1\"", "\"batchId\":\"LONG81\"")]
    [InlineData("\"sequence\":3", "\"sequence\":3,\"extra\":1")]
    public void A_batch_ready_event_that_the_schema_refuses_the_reader_refuses_too(string from, string to)
    {
        var bad = Event.Replace(from, Expand(to), StringComparison.Ordinal);
        Assert.NotEqual(Event, bad);

        Assert.False(SchemaAccepts("batch-ready-event.v1.schema.json", bad), "schema accepted " + Echo.Brief(bad));
        Assert.False(EventReaderAccepts(bad), "reader accepted " + Echo.Brief(bad));
    }

    [Theory]
    [InlineData("\"version\":1", "\"version\":\"1\"")]
    [InlineData("\"sequence\":3", "\"Sequence\":3")]
    [InlineData("\"sequence\":3", "\"sequence\":-1")]
    [InlineData("\"rows\":1", "\"rows\":\"1\"")]
    [InlineData("\"uri\":\"shard-00000.parquet\"", "\"uri\":\"LONG4097\"")]
    [InlineData("\"name\":\"id\"", "\"name\":\"LONG64\"")]
    [InlineData("\"batchId\":\"b-1\"", "\"batchId\":\"LONG81\"")]
    [InlineData("\"dataset\":\"d\"", "\"dataset\":\"LONG129\"")]
    public void A_manifest_that_the_schema_refuses_the_reader_refuses_too(string from, string to)
    {
        var bad = Manifest.Replace(from, Expand(to), StringComparison.Ordinal);
        Assert.NotEqual(Manifest, bad);

        Assert.False(SchemaAccepts("manifest.v1.schema.json", bad), "schema accepted " + Echo.Brief(bad));
        Assert.False(ManifestReaderAccepts(bad), "reader accepted " + Echo.Brief(bad));
    }

    [Fact]
    public void A_manifest_with_more_shards_than_the_limit_is_refused_by_both()
    {
        var shard = $$"""{"uri":"s.parquet","rows":1,"bytes":1,"sha256":"{{new string('a', 64)}}"}""";
        var bad = Manifest[..Manifest.IndexOf("\"shards\"", StringComparison.Ordinal)]
            + "\"shards\":[" + string.Join(",", Enumerable.Repeat(shard, ContractLimits.MaxShards + 1)) + "]}";

        Assert.False(SchemaAccepts("manifest.v1.schema.json", bad));
        Assert.False(ManifestReaderAccepts(bad));
    }

    [Theory]
    [InlineData("\"loadMode\":\"upsert\"", "\"loadMode\":2")]
    [InlineData("\"loadMode\":\"upsert\"", "\"loadMode\":\"Upsert\"")]
    [InlineData("\"version\":1", "\"version\":\"1\"")]
    [InlineData("\"table\"", "\"Table\"")]
    [InlineData("\"nullable\":false", "\"nullable\":\"false\"")]
    public void A_target_that_the_schema_refuses_the_reader_refuses_too(string from, string to)
    {
        var bad = Target.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(Target, bad);

        Assert.False(SchemaAccepts("target.v1.schema.json", bad), "schema accepted " + bad);
        Assert.False(TargetReaderAccepts(bad), "reader accepted " + bad);
    }

    [Fact]
    public void A_property_given_twice_is_refused_by_the_reader()
    {
        // JSON Schema cannot see duplicates (a parsed document keeps one); the reader must not pick one silently.
        var twice = Event.Replace("\"sequence\":3", "\"sequence\":3,\"sequence\":4", StringComparison.Ordinal);

        Assert.False(EventReaderAccepts(twice));
    }

    [Fact]
    public void The_bounds_the_schemas_state_are_the_readers_limits()
    {
        var @event = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "batch-ready-event.v1.schema.json")))!["properties"]!;
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "manifest.v1.schema.json")))!["properties"]!;

        Assert.Equal(ContractLimits.MaxBatchIdLength, (int)@event["batchId"]!["maxLength"]!);
        Assert.Equal(ContractLimits.MaxUriLength, (int)@event["manifestUri"]!["maxLength"]!);
        Assert.Equal(ContractLimits.MaxDatasetLength, (int)@event["dataset"]!["maxLength"]!);
        Assert.Equal(ContractLimits.MaxPartitionLength, (int)@event["partition"]!["maxLength"]!);
        Assert.Equal(ContractLimits.MaxTraceparentLength, (int)@event["traceparent"]!["maxLength"]!);
        Assert.Equal(ContractLimits.MaxShards, (int)manifest["shards"]!["maxItems"]!);
        Assert.Equal(ContractLimits.MaxUriLength, (int)manifest["shards"]!["items"]!["properties"]!["uri"]!["maxLength"]!);
        Assert.Equal(ContractLimits.MaxColumns, (int)manifest["schema"]!["maxItems"]!);
        Assert.Equal(ContractLimits.MaxBatchIdLength, (int)manifest["batchId"]!["maxLength"]!);
    }

    // "LONG<n>" stands for n letters, so the cases stay readable.
    private static string Expand(string value)
    {
        var at = value.IndexOf("LONG", StringComparison.Ordinal);
        if (at < 0)
        {
            return value;
        }

        var end = at + 4;
        while (end < value.Length && char.IsAsciiDigit(value[end]))
        {
            end++;
        }

        var count = int.Parse(value[(at + 4)..end], System.Globalization.CultureInfo.InvariantCulture);
        var prefix = value[..at];
        return prefix + new string('a', count - (prefix.EndsWith("file:///", StringComparison.Ordinal) ? 8 : 0)) + value[end..];
    }
}

/// <summary>Each committed schema loaded once: the evaluator registers a schema by its $id, and a second load collides.</summary>
internal static class CommittedSchemas
{
    private static readonly Dictionary<string, JsonSchema> Loaded = [];

    public static JsonSchema Get(string name)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(name, out var schema))
            {
                schema = JsonSchema.FromFile(Path.Combine(RepositoryRoot.Of("contracts"), "schemas", name));
                Loaded[name] = schema;
            }

            return schema;
        }
    }
}
