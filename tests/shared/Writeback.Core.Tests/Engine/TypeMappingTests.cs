using Npgsql;
using Parquet.Schema;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

public sealed class TypeMappingTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    private static readonly (string Name, string Type)[] Columns =
    [
        ("k", "integer"), ("c_smallint", "smallint"), ("c_integer", "integer"), ("c_bigint", "bigint"), ("c_numeric", "numeric(10,3)"),
        ("c_real", "real"), ("c_double", "double precision"), ("c_boolean", "boolean"), ("c_text", "text"), ("c_varchar", "varchar(5)"),
        ("c_date", "date"), ("c_timestamp", "timestamp"), ("c_timestamptz", "timestamptz"), ("c_uuid", "uuid"), ("c_jsonb", "jsonb"),
        ("c_bytea", "bytea"),
    ];

    private static Target AllTypesTarget() => new()
    {
        Version = 1,
        Dataset = "all_types",
        Table = "test.all_types",
        Columns = [.. Columns.Select(c => new TargetColumn { Name = c.Name, Type = c.Type, Nullable = c.Name != "k" })],
        Key = ["k"],
        LoadMode = LoadMode.Upsert,
    };

    [Fact]
    public async Task Every_contract_type_round_trips_from_parquet_including_nulls()
    {
        var engine = CreateEngine(database.ConnectionString, AllTypesTarget());
        var uuid = Guid.Parse("6f1c2b9e-8a57-4c1e-9a43-2b1d6a3e5f70");
        var shard = new ShardColumnData[]
        {
            new(new DataField<int>("k"), new[] { 1, 2 }),
            new(new DataField<short?>("c_smallint"), new short?[] { -32768, null }),
            new(new DataField<int?>("c_integer"), new int?[] { 2_147_483_647, null }),
            new(new DataField<long?>("c_bigint"), new long?[] { -9_223_372_036_854_775_808, null }),
            new(new DecimalDataField("c_numeric", 10, 3, false, true), new decimal?[] { 1234567.125m, null }),
            new(new DataField<float?>("c_real"), new float?[] { 1.5f, null }),
            new(new DataField<double?>("c_double"), new double?[] { -2.25e100, null }),
            new(new DataField<bool?>("c_boolean"), new bool?[] { true, null }),
            new(new DataField<string>("c_text"), new string?[] { "héllo, 世界 \"quoted\" \\ \n", null }),
            new(new DataField<string>("c_varchar"), new string?[] { "日本語です", null }),
            new(new DataField<DateOnly?>("c_date"), new DateOnly?[] { new(2026, 11, 26), null }),
            new(new DateTimeDataField("c_timestamp", DateTimeFormat.Timestamp, false, DateTimeTimeUnit.Micros, isNullable: true), new DateTime?[] { new DateTime(2026, 11, 26, 7, 59, 59, 123).AddTicks(4560), null }),
            new(new DateTimeDataField("c_timestamptz", DateTimeFormat.Timestamp, true, DateTimeTimeUnit.Micros, isNullable: true), new DateTime?[] { new DateTime(2026, 11, 25, 23, 0, 0, DateTimeKind.Utc), null }),
            new(new DataField<Guid?>("c_uuid"), new Guid?[] { uuid, null }),
            new(new DataField<string>("c_jsonb"), new string?[] { """{"a": [1, 2], "b": null}""", null }),
            new(new DataField<byte[]>("c_bytea"), new byte[]?[] { [0, 1, 255], null }),
        };
        var manifest = await _batches.WriteBatchAsync("all-types", "all_types", [shard], [.. Columns.Select(c => new ShardColumn { Name = c.Name, Type = c.Type })]);

        var result = await RunAsync(engine, manifest);

        Assert.Equal(2, result.Inserted);
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT * FROM test.all_types ORDER BY k", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((short)-32768, reader.GetInt16(1));
        Assert.Equal(2_147_483_647, reader.GetInt32(2));
        Assert.Equal(long.MinValue, reader.GetInt64(3));
        Assert.Equal(1234567.125m, reader.GetDecimal(4));
        Assert.Equal(1.5f, reader.GetFloat(5));
        Assert.Equal(-2.25e100, reader.GetDouble(6));
        Assert.True(reader.GetBoolean(7));
        Assert.Equal("héllo, 世界 \"quoted\" \\ \n", reader.GetString(8));
        Assert.Equal("日本語です", reader.GetString(9));
        Assert.Equal(new DateOnly(2026, 11, 26), reader.GetFieldValue<DateOnly>(10));
        Assert.Equal(new DateTime(2026, 11, 26, 7, 59, 59, 123).AddTicks(4560), reader.GetDateTime(11));
        Assert.Equal(new DateTime(2026, 11, 25, 23, 0, 0, DateTimeKind.Utc), reader.GetFieldValue<DateTime>(12));
        Assert.Equal(uuid, reader.GetGuid(13));
        Assert.Equal("""{"a": [1, 2], "b": null}""", reader.GetString(14));
        Assert.Equal(new byte[] { 0, 1, 255 }, reader.GetFieldValue<byte[]>(15));
        Assert.True(await reader.ReadAsync());
        for (var i = 1; i < Columns.Length; i++)
        {
            Assert.True(reader.IsDBNull(i), $"column {Columns[i].Name} should be null");
        }
    }

    [Fact]
    public async Task The_product_table_is_created_from_the_contract_with_its_types_and_key()
    {
        var engine = CreateEngine(database.ConnectionString, AllTypesTarget() with { Table = "test.all_types_ddl", Dataset = "all_types_ddl" });
        var manifest = await _batches.WriteBatchAsync("all-types-ddl", "all_types_ddl", [[new(new DataField<int>("k"), new[] { 1 }),
            .. Columns.Skip(1).Select(c => new ShardColumnData(NullField(c.Type, c.Name), NullValues(c.Type)))]],
            [.. Columns.Select(c => new ShardColumn { Name = c.Name, Type = c.Type })]);

        await engine.PrepareAsync(manifest, null, null, default);

        var types = await ScalarAsync<string>(database.ConnectionString,
            "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'test.all_types_ddl'::regclass AND attnum > 0");
        Assert.Equal(
            "k integer not null, c_smallint smallint, c_integer integer, c_bigint bigint, c_numeric numeric(10,3), c_real real, c_double double precision, " +
            "c_boolean boolean, c_text text, c_varchar character varying(5), c_date date, c_timestamp timestamp without time zone, " +
            "c_timestamptz timestamp with time zone, c_uuid uuid, c_jsonb jsonb, c_bytea bytea",
            types);
        Assert.Equal("PRIMARY KEY (k)", await ScalarAsync<string>(database.ConnectionString, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'test.all_types_ddl'::regclass AND contype = 'p'"));
    }

    [Fact]
    public async Task An_existing_table_whose_column_type_differs_from_the_contract_is_reported()
    {
        await TestBatches.ExecuteAsync(database.ConnectionString, "CREATE SCHEMA IF NOT EXISTS test; CREATE TABLE test.drifted (id bigint NOT NULL, day date NOT NULL, name text, score numeric(5,2), minutes bigint NOT NULL, PRIMARY KEY (id, day))");
        var target = ScoresTarget("drifted", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("drifted-1", target.Dataset, [Scores(Day1, 3)], "2026-11-01");

        var error = await Record.ExceptionAsync(() => engine.PrepareAsync(manifest, null, null, default));

        Assert.Contains("column 'name' is text in the database, the contract says varchar(10)", Assert.IsType<InvalidBatchException>(error).Message);
    }

    private static DataField NullField(string type, string name) => type switch
    {
        "smallint" => new DataField<short?>(name),
        "integer" => new DataField<int?>(name),
        "bigint" => new DataField<long?>(name),
        "numeric(10,3)" => new DecimalDataField(name, 10, 3, false, true),
        "real" => new DataField<float?>(name),
        "double precision" => new DataField<double?>(name),
        "boolean" => new DataField<bool?>(name),
        "date" => new DataField<DateOnly?>(name),
        "timestamp" => new DateTimeDataField(name, DateTimeFormat.Timestamp, false, DateTimeTimeUnit.Micros, isNullable: true),
        "timestamptz" => new DateTimeDataField(name, DateTimeFormat.Timestamp, true, DateTimeTimeUnit.Micros, isNullable: true),
        "uuid" => new DataField<Guid?>(name),
        "bytea" => new DataField<byte[]>(name),
        _ => new DataField<string>(name),
    };

    private static Array NullValues(string type) => type switch
    {
        "smallint" => new short?[1],
        "integer" => new int?[1],
        "bigint" => new long?[1],
        "numeric(10,3)" => new decimal?[1],
        "real" => new float?[1],
        "double precision" => new double?[1],
        "boolean" => new bool?[1],
        "date" => new DateOnly?[1],
        "timestamp" or "timestamptz" => new DateTime?[1],
        "uuid" => new Guid?[1],
        "bytea" => new byte[]?[1],
        _ => new string?[1],
    };
}
