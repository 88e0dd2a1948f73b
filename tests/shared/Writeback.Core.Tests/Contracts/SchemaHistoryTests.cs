using System.Text;
using System.Text.Json;
using Json.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Tests.Contracts;

/// <summary>A target's schema history as the contract file states it, read by the strict reader and by the committed schema.</summary>
public sealed class SchemaHistoryTests
{
    /// <summary>Three versions: a column added with a default, then a name widened twice and a nullable column added.</summary>
    private const string Versioned = """
        {"version":1,"dataset":"d","table":"s.t","loadMode":"upsert","key":["id"],
         "columns":[{"name":"id","type":"bigint","nullable":false},{"name":"name","type":"varchar(80)"},
                    {"name":"score","type":"numeric(7,2)"},{"name":"tries","type":"integer","nullable":false,"default":1},
                    {"name":"note","type":"text","default":"it's new"}],
         "history":[
           {"version":2,"date":"2026-11-20","description":"tries for the retry tile","changes":[{"change":"add_column","column":"tries"}]},
           {"version":3,"description":"longer names, wider scores, a note","changes":[
              {"change":"widen","column":"name","from":"varchar(20)","to":"varchar(40)"},
              {"change":"widen","column":"name","from":"varchar(40)","to":"varchar(80)"},
              {"change":"widen","column":"score","from":"numeric(5,2)","to":"numeric(7,2)"},
              {"change":"add_column","column":"note"}]}]}
        """;

    private static Target Read(string json) => ContractReader.ReadTarget(Encoding.UTF8.GetBytes(json), "test");

    private static string Error(string json) => Assert.Throws<ContractException>(() => Read(json)).Message;

    private static bool SchemaAccepts(string json) =>
        CommittedSchemas.Get("target.v1.schema.json").Evaluate(JsonDocument.Parse(json).RootElement, new EvaluationOptions()).IsValid;

    [Fact]
    public void A_history_is_read_and_every_earlier_version_is_known()
    {
        var target = new ResolvedTarget(Read(Versioned));

        Assert.Equal(3, target.SchemaVersion);
        Assert.Equal("id bigint, name varchar(20), score numeric(5,2)", Columns(target.AtVersion(1)!));
        Assert.Equal("id bigint, name varchar(20), score numeric(5,2), tries integer", Columns(target.AtVersion(2)!));
        Assert.Same(target, target.AtVersion(3));
        Assert.True(SchemaAccepts(Versioned));

        static string Columns(ResolvedTarget t) => string.Join(", ", t.Columns.Select(c => $"{c.Name} {c.Type}"));
    }

    [Fact]
    public void A_default_reaches_ddl_as_a_quoted_literal_of_the_column_type()
    {
        var target = new ResolvedTarget(Read(Versioned));

        Assert.Equal("\"note\" text DEFAULT CAST('it''s new' AS text)", target.Find("note")!.Definition);
        Assert.Equal("\"tries\" integer DEFAULT CAST('1' AS integer) NOT NULL", target.Find("tries")!.Definition);
    }

    [Theory]
    [InlineData("rename_column")]
    [InlineData("change_type")]
    public void A_destructive_change_is_refused_with_the_way_to_migrate(string change)
    {
        var error = Error(Versioned.Replace("\"change\":\"add_column\",\"column\":\"tries\"", $"\"change\":\"{change}\",\"column\":\"tries\"", StringComparison.Ordinal));

        Assert.Contains($"field '$.history[0].changes[0].change': '{change}' is a destructive change, which Writeback does not apply.", error);
        Assert.Contains("Migrate by expand/contract: add the new column in a new version, backfill it, switch readers to it, then drop the old column by hand", error);
        Assert.False(SchemaAccepts(Versioned.Replace("\"change\":\"add_column\",\"column\":\"tries\"", $"\"change\":\"{change}\",\"column\":\"tries\"", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("\"from\":\"numeric(5,2)\",\"to\":\"numeric(7,2)\"", "\"from\":\"numeric(9,2)\",\"to\":\"numeric(7,2)\"", "narrowing of column 'score' from numeric(9,2) to numeric(7,2) is not a widening PostgreSQL applies without rewriting the table")]
    [InlineData("\"from\":\"numeric(5,2)\",\"to\":\"numeric(7,2)\"", "\"from\":\"numeric(5,1)\",\"to\":\"numeric(7,2)\"", "type change of column 'score' from numeric(5,1) to numeric(7,2) is not a widening")]
    [InlineData("\"from\":\"numeric(5,2)\",\"to\":\"numeric(7,2)\"", "\"from\":\"integer\",\"to\":\"numeric(7,2)\"", "type change of column 'score' from integer to numeric(7,2)")]
    [InlineData("\"from\":\"varchar(40)\",\"to\":\"varchar(80)\"", "\"from\":\"varchar(40)\",\"to\":\"varchar(90)\"", "field 'history[1].changes[1].to': is varchar(90), but column 'name' is varchar(80) from version 3 on")]
    [InlineData("\"nullable\":false,\"default\":1", "\"nullable\":false", "version 2 adds 'tries' as nullable: false without a default")]
    [InlineData("{\"change\":\"add_column\",\"column\":\"tries\"}", "{\"change\":\"add_column\",\"column\":\"id\"}", "version 2 adds 'id' to the key or as the partition column")]
    [InlineData("{\"change\":\"add_column\",\"column\":\"tries\"}", "{\"change\":\"drop_column\",\"column\":\"tries\"}", "version 2 drops 'tries', which 'columns' still declares")]
    [InlineData("\"version\":2,", "\"version\":4,", "field 'history[0].version': is 4; versions are numbered 2, 3, … in order")]
    [InlineData("\"default\":1", "\"default\":\"one\"", "field 'columns[3].default': \"one\" is not a value of type integer")]
    public void A_history_that_does_not_add_up_is_refused_naming_the_field(string from, string to, string expected)
    {
        var bad = Versioned.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(Versioned, bad);

        Assert.Contains(expected, Error(bad));
    }

    [Fact]
    public void A_drop_makes_the_versions_before_it_unavailable_to_older_manifests()
    {
        var dropped = Versioned
            .Replace(",{\"name\":\"note\",\"type\":\"text\",\"default\":\"it's new\"}", string.Empty, StringComparison.Ordinal)
            .Replace("{\"change\":\"add_column\",\"column\":\"note\"}", "{\"change\":\"drop_column\",\"column\":\"legacy\"}", StringComparison.Ordinal);

        var target = new ResolvedTarget(Read(dropped));

        Assert.Null(target.AtVersion(2));
        Assert.Equal(3, target.SchemaVersion);
    }

    [Fact]
    public void A_widen_without_both_types_is_refused_by_the_schema_and_the_reader()
    {
        var bad = Versioned.Replace("\"from\":\"numeric(5,2)\",", string.Empty, StringComparison.Ordinal);

        Assert.False(SchemaAccepts(bad));
        Assert.Contains("a widen names both types", Error(bad));
    }

    [Fact]
    public void A_manifest_may_name_its_schema_version_and_the_schema_says_so()
    {
        var manifest = """{"version":1,"batchId":"b-1","dataset":"d","generatedAt":"2026-11-01T20:00:00Z","sequence":3,"schemaVersion":2,"schema":[{"name":"id","type":"bigint"}],"shards":[]}""";
        var schema = CommittedSchemas.Get("manifest.v1.schema.json");

        Assert.Equal(2, ContractReader.ReadManifest(Encoding.UTF8.GetBytes(manifest), "test").SchemaVersion);
        Assert.True(schema.Evaluate(JsonDocument.Parse(manifest).RootElement, new EvaluationOptions()).IsValid);
        Assert.Contains("field 'schemaVersion': must be 1 or more", Assert.Throws<InvalidBatchException>(() => ContractReader.ReadManifest(Encoding.UTF8.GetBytes(manifest.Replace("\"schemaVersion\":2", "\"schemaVersion\":0", StringComparison.Ordinal)), "test")).Message);
    }
}
