using System.Text;
using Writeback.Core.Contracts;
using Writeback.Testing;

namespace Writeback.Core.Tests.Contracts;

public sealed class ContractReaderTests
{
    private const string ValidManifest = """
        {"version":1,"batchId":"b-1","dataset":"student_dashboard","partition":"2026-11-01","generatedAt":"2026-11-01T20:00:00Z",
         "sequence":3,"schema":[{"name":"student_id","type":"bigint"}],
         "shards":[{"uri":"shard-00000.parquet","rows":10,"bytes":100,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}]}
        """;

    private static Manifest Read(string json) => ContractReader.ReadManifest(Encoding.UTF8.GetBytes(json), "test");

    [Fact]
    public void A_valid_manifest_is_read()
    {
        var manifest = Read(ValidManifest);

        Assert.Equal(("b-1", 3L, 1), (manifest.BatchId, manifest.Sequence, manifest.Shards.Count));
    }

    [Fact]
    public void An_unknown_version_names_the_field() =>
        Assert.Contains("field 'version': unknown manifest version 9", Assert.Throws<InvalidBatchException>(() => Read(ValidManifest.Replace("\"version\":1", "\"version\":9"))).Message);

    [Fact]
    public void A_missing_required_field_names_the_field() =>
        Assert.Contains("sequence", Assert.Throws<InvalidBatchException>(() => Read(ValidManifest.Replace("\"sequence\":3,", ""))).Message);

    [Fact]
    public void An_unknown_field_is_an_error_not_ignored() =>
        Assert.Contains("table", Assert.Throws<InvalidBatchException>(() => Read(ValidManifest.Replace("\"sequence\":3,", "\"sequence\":3,\"table\":\"x\","))).Message);

    [Fact]
    public void A_mistyped_field_names_its_path() =>
        Assert.Contains("$.shards[0].rows", Assert.Throws<InvalidBatchException>(() => Read(ValidManifest.Replace("\"rows\":10", "\"rows\":\"ten\""))).Message);

    [Fact]
    public void A_bad_checksum_format_names_the_shard_field() =>
        Assert.Contains("field 'shards[0].sha256'", Assert.Throws<InvalidBatchException>(() => Read(ValidManifest.Replace("\"sha256\":\"0000", "\"sha256\":\"ZZ00"))).Message);

    [Fact]
    public void An_unsupported_column_type_names_the_column() =>
        Assert.Contains("field 'schema[0].type': 'money'", Assert.Throws<InvalidBatchException>(() => Read(ValidManifest.Replace("\"type\":\"bigint\"", "\"type\":\"money\""))).Message);

    [Fact]
    public void A_batch_id_outside_the_execution_name_alphabet_is_rejected() =>
        Assert.Contains("field 'batchId'", Assert.Throws<InvalidBatchException>(() => Read(ValidManifest.Replace("\"b-1\"", "\"b 1;\""))).Message);

    [Theory]
    [InlineData("numeric(5,2)", ColumnKind.Numeric, 5, 2, 0)]
    [InlineData("NUMERIC( 5, 2 )", ColumnKind.Numeric, 5, 2, 0)]
    [InlineData("varchar(40)", ColumnKind.Varchar, 0, 0, 40)]
    [InlineData("character varying(40)", ColumnKind.Varchar, 0, 0, 40)]
    [InlineData("timestamp with time zone", ColumnKind.Timestamptz, 0, 0, 0)]
    [InlineData("double precision", ColumnKind.DoublePrecision, 0, 0, 0)]
    [InlineData("int8", ColumnKind.Bigint, 0, 0, 0)]
    public void Column_types_are_read_in_the_contract_spelling(string text, ColumnKind kind, int precision, int scale, int length) =>
        Assert.Equal(new ColumnType(kind, precision, scale, length), ColumnType.TryParse(text));

    [Theory]
    [InlineData("integer; drop table x")]
    [InlineData("numeric(5,7)")]
    [InlineData("varchar(0)")]
    [InlineData("money")]
    public void Anything_else_is_not_a_column_type(string text) => Assert.Null(ColumnType.TryParse(text));

    private const string ValidTarget = """
        {"version":1,"dataset":"d","table":"s.t","columns":[{"name":"id","type":"bigint","nullable":false},{"name":"day","type":"date","nullable":false}],
         "key":["id"],"loadMode":"replace_partition","partitionColumn":"day","deadline":{"time":"08:00","timeZone":"Asia/Tokyo"}}
        """;

    private static string TargetError(string json) =>
        Assert.Throws<ContractException>(() => ContractReader.ReadTarget(Encoding.UTF8.GetBytes(json), "test")).Message;

    [Fact]
    public void A_valid_target_is_read() =>
        Assert.Equal(LoadMode.ReplacePartition, ContractReader.ReadTarget(Encoding.UTF8.GetBytes(ValidTarget), "test").LoadMode);

    [Fact]
    public void A_target_without_a_key_is_read_as_keyless() =>
        Assert.Empty(ContractReader.ReadTarget(Encoding.UTF8.GetBytes(ValidTarget.Replace("\"key\":[\"id\"],", "")), "test").Key);

    [Fact]
    public void An_upsert_target_without_a_key_is_rejected_with_the_field_named() =>
        Assert.Contains("field 'key'", TargetError(ValidTarget.Replace("\"key\":[\"id\"],", "").Replace("replace_partition", "upsert")));

    [Fact]
    public void A_table_name_that_is_not_a_plain_identifier_is_rejected() =>
        Assert.Contains("field 'table'", TargetError(ValidTarget.Replace("\"s.t\"", "\"s.t\\\"; drop table y; --\"")));

    [Fact]
    public void A_key_column_must_exist() => Assert.Contains("field 'key[0]'", TargetError(ValidTarget.Replace("\"key\":[\"id\"]", "\"key\":[\"nope\"]")));

    [Fact]
    public void A_nullable_key_column_is_rejected() => Assert.Contains("field 'key[0]'", TargetError(ValidTarget.Replace("\"type\":\"bigint\",\"nullable\":false", "\"type\":\"bigint\",\"nullable\":true")));

    [Fact]
    public void Replace_partition_needs_a_partition_column() => Assert.Contains("field 'partitionColumn'", TargetError(ValidTarget.Replace(",\"partitionColumn\":\"day\"", "")));

    [Fact]
    public void A_partitioned_table_needs_its_partition_column_in_the_key() =>
        Assert.Contains("field 'partitioned'", TargetError(ValidTarget.Replace("\"partitionColumn\":\"day\"", "\"partitionColumn\":\"day\",\"partitioned\":true")));

    [Fact]
    public void A_partitioned_table_whose_key_has_its_partition_column_is_read() =>
        Assert.True(ContractReader.ReadTarget(Encoding.UTF8.GetBytes(ValidTarget.Replace("\"key\":[\"id\"]", "\"key\":[\"id\",\"day\"],\"partitioned\":true")), "test").Partitioned);

    [Fact]
    public void An_unknown_load_mode_names_the_field() => Assert.Contains("loadMode", TargetError(ValidTarget.Replace("replace_partition", "truncate")));

    [Fact]
    public void A_deadline_zone_must_be_a_known_iana_zone() => Assert.Contains("field 'deadline.timeZone'", TargetError(ValidTarget.Replace("Asia/Tokyo", "Mars/Olympus")));

    [Fact]
    public void The_repository_targets_are_valid_contracts()
    {
        var folder = RepositoryRoot.Of("targets");
        var catalog = TargetCatalog.FromDirectory(folder);

        var student = catalog.Get("student_dashboard", "test");
        Assert.Equal(("dashboard.student_daily", LoadMode.ReplacePartition, "business_date"), (student.Table, student.Mode, student.Partition!.Name));
        Assert.Equal(["student_id", "business_date"], student.Key);
        Assert.Equal("numeric(5,2)", student.Find("average_score")!.Type.Sql);
        Assert.Equal("dashboard.class_daily", catalog.Get("class_summary", "test").Table);
    }
}
