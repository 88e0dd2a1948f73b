using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Storage;

namespace Writeback.Core.Tests.Support;

/// <summary>One column of a shard as the tests write it: a Parquet field and its values.</summary>
public sealed record ShardColumnData(DataField Field, Array Values);

/// <summary>A row of the standard test target: scores(id, day, name, score, minutes).</summary>
public sealed record ScoreRow(long Id, DateOnly Day, string? Name, decimal? Score, int Minutes);

/// <summary>Writes Parquet shards and manifests to a temp folder, the way the exporter does.</summary>
public sealed class TestBatches : IDisposable
{
    public static readonly DateOnly Day1 = new(2026, 11, 1);
    public static readonly DateOnly Day2 = new(2026, 11, 2);

    public string Folder { get; } = Directory.CreateTempSubdirectory("writeback-test-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The standard keyed test target, in its own table so tests in one database do not meet.</summary>
    public static Target ScoresTarget(string table, LoadMode mode, bool keyed = true) => new()
    {
        Version = 1,
        Dataset = table,
        Table = "test." + table,
        Columns =
        [
            new TargetColumn { Name = "id", Type = "bigint", Nullable = !keyed },
            new TargetColumn { Name = "day", Type = "date", Nullable = mode != LoadMode.ReplacePartition && !keyed },
            new TargetColumn { Name = "name", Type = "varchar(10)" },
            new TargetColumn { Name = "score", Type = "numeric(5,2)" },
            new TargetColumn { Name = "minutes", Type = "integer", Nullable = false },
        ],
        Key = keyed ? ["id", "day"] : [],
        LoadMode = mode,
        PartitionColumn = mode == LoadMode.ReplacePartition ? "day" : null,
    };

    public static IReadOnlyList<ShardColumn> ScoresSchema =>
    [
        new() { Name = "id", Type = "bigint" },
        new() { Name = "day", Type = "date" },
        new() { Name = "name", Type = "varchar(10)" },
        new() { Name = "score", Type = "numeric(5,2)" },
        new() { Name = "minutes", Type = "integer" },
    ];

    public static ShardColumnData[] ScoreColumns(IReadOnlyList<ScoreRow> rows, bool nullableId = false) =>
    [
        nullableId
            ? new(new DataField<long?>("id"), rows.Select(r => (long?)r.Id).ToArray())
            : new(new DataField<long>("id"), rows.Select(r => r.Id).ToArray()),
        new(new DataField<DateOnly>("day"), rows.Select(r => r.Day).ToArray()),
        new(new DataField<string>("name"), rows.Select(r => r.Name).ToArray()),
        new(new DecimalDataField("score", 5, 2, false, true), rows.Select(r => r.Score).ToArray()),
        new(new DataField<int>("minutes"), rows.Select(r => r.Minutes).ToArray()),
    ];

    public static IReadOnlyList<ScoreRow> Scores(DateOnly day, int count, int seed = 0, long firstId = 1) =>
        [.. Enumerable.Range(0, count).Select(i => new ScoreRow(firstId + i, day, $"s{i % 1000}", (i + seed) % 100 + 0.25m, (i * 7 + seed) % 300))];

    /// <summary>Writes one shard file; <paramref name="rowGroupSize"/> splits it into row groups.</summary>
    public static async Task WriteShardAsync(string path, IReadOnlyList<ShardColumnData> columns, int rowGroupSize = 10_000)
    {
        var schema = new ParquetSchema(columns.Select(c => (Field)c.Field).ToArray());
        var rows = columns[0].Values.Length;
        await using var file = File.Create(path);
        // BigDecimal columns (wider than System.Decimal) need Parquet.Net's BigDecimal mode to be written at all.
        var options = new ParquetOptions { UseBigDecimal = columns.Any(c => c.Values is Parquet.Data.BigDecimal?[]) };
        await using var writer = await ParquetWriter.CreateAsync(schema, file, options);
        for (var start = 0; start < Math.Max(rows, 1); start += rowGroupSize)
        {
            var count = Math.Min(rowGroupSize, rows - start);
            using var group = writer.CreateRowGroup();
            foreach (var column in columns)
            {
                await WriteColumnAsync(group, column.Field, column.Values, start, count);
            }
        }
    }

    private static Task WriteColumnAsync(ParquetRowGroupWriter group, DataField field, Array values, int start, int count) => values switch
    {
        short[] v => group.WriteAsync<short>(field, v.AsMemory(start, count)),
        int[] v => group.WriteAsync<int>(field, v.AsMemory(start, count)),
        int?[] v => group.WriteAsync<int>(field, v.AsMemory(start, count)),
        long[] v => group.WriteAsync<long>(field, v.AsMemory(start, count)),
        long?[] v => group.WriteAsync<long>(field, v.AsMemory(start, count)),
        short?[] v => group.WriteAsync<short>(field, v.AsMemory(start, count)),
        decimal?[] v => group.WriteAsync<decimal>(field, v.AsMemory(start, count)),
        decimal[] v => group.WriteAsync<decimal>(field, v.AsMemory(start, count)),
        Parquet.Data.BigDecimal?[] v => group.WriteAsync<Parquet.Data.BigDecimal>(field, v.AsMemory(start, count)),
        float?[] v => group.WriteAsync<float>(field, v.AsMemory(start, count)),
        double?[] v => group.WriteAsync<double>(field, v.AsMemory(start, count)),
        bool?[] v => group.WriteAsync<bool>(field, v.AsMemory(start, count)),
        DateOnly[] v => group.WriteAsync<DateOnly>(field, v.AsMemory(start, count)),
        DateOnly?[] v => group.WriteAsync<DateOnly>(field, v.AsMemory(start, count)),
        DateTime?[] v => group.WriteAsync<DateTime>(field, v.AsMemory(start, count)),
        Guid?[] v => group.WriteAsync<Guid>(field, v.AsMemory(start, count)),
        string?[] v => group.WriteAsync(field, v.Skip(start).Take(count).ToArray()),
        byte[]?[] v => group.WriteAsync(field, v.Skip(start).Take(count).ToArray()!),
        _ => throw new NotSupportedException(values.GetType().Name),
    };

    /// <summary>Writes shards and a manifest (shard URIs relative to it) into a fresh subfolder; returns the manifest path.</summary>
    public async Task<string> WriteBatchAsync(
        string batchId, string dataset, IReadOnlyList<IReadOnlyList<ShardColumnData>> shards, IReadOnlyList<ShardColumn> schema,
        string? partition = null, long sequence = 1, Func<Manifest, Manifest>? edit = null)
    {
        var folder = Path.Combine(Folder, batchId + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(folder);
        var entries = new List<ShardEntry>();
        for (var i = 0; i < shards.Count; i++)
        {
            var name = $"shard-{i:D5}.parquet";
            await WriteShardAsync(Path.Combine(folder, name), shards[i]);
            entries.Add(Entry(Path.Combine(folder, name), name, shards[i][0].Values.Length));
        }

        var manifest = new Manifest
        {
            Version = 1,
            BatchId = batchId,
            Dataset = dataset,
            Partition = partition,
            GeneratedAt = DateTimeOffset.UtcNow,
            Sequence = sequence,
            Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            Schema = schema,
            Shards = entries,
        };
        manifest = edit?.Invoke(manifest) ?? manifest;
        var path = Path.Combine(folder, "manifest.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(manifest, ContractJson.Default.Manifest));
        return path;
    }

    public static ShardEntry Entry(string path, string uri, long rows)
    {
        var bytes = File.ReadAllBytes(path);
        return new ShardEntry { Uri = uri, Rows = rows, Bytes = bytes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) };
    }

    /// <summary>A batch of the scores target: one shard per list of rows.</summary>
    public Task<string> WriteScoresAsync(string batchId, string dataset, IReadOnlyList<IReadOnlyList<ScoreRow>> shards, string? partition = null, long sequence = 1, Func<Manifest, Manifest>? edit = null) =>
        WriteBatchAsync(batchId, dataset, [.. shards.Select(rows => (IReadOnlyList<ShardColumnData>)ScoreColumns(rows))], ScoresSchema, partition, sequence, edit);

    /// <summary>
    /// Every test batch folder lies in the temp folder, and <see cref="HttpBatchTests"/> serve them on loopback: the
    /// local policy over both. Tests of the policy itself build tighter ones.
    /// </summary>
    public static SourcePolicy TestSources { get; } = SourcePolicy.LocalFolder(Path.GetTempPath(), allowLoopbackHttp: true);

    public static LoadEngine CreateEngine(string connectionString, params Target[] targets) => CreateEngine(connectionString, TestSources, targets);

    public static LoadEngine CreateEngine(string connectionString, SourcePolicy sources, params Target[] targets) =>
        CreateEngine(connectionString, sources, SchemaMigrationOptions.Default, targets);

    public static LoadEngine CreateEngine(string connectionString, SourcePolicy sources, SchemaMigrationOptions migration, params Target[] targets) =>
        new(Writeback.Core.Loading.LoaderDataSource.Create(connectionString), new TargetCatalog(targets), new BatchFiles(BatchFiles.CreateHttpClient(TimeSpan.FromSeconds(30)), sources))
        {
            SchemaMigration = migration,
        };

    /// <summary>Runs every step the state machine would, in order, shards one after another.</summary>
    public static async Task<PublishResult> RunAsync(LoadEngine engine, string manifest, RollbackRequest? rollback = null)
    {
        var prepared = await engine.PrepareAsync(manifest, null, null, rollback, default);
        if (prepared.Action != PrepareAction.Load)
        {
            return await engine.PublishAsync(manifest, prepared.BatchId, default);
        }

        for (var i = 0; i < prepared.ShardCount; i++)
        {
            await engine.LoadShardAsync(manifest, prepared.BatchId, i, default);
        }

        await engine.VerifyAsync(manifest, prepared.BatchId, default);
        var published = await engine.PublishAsync(manifest, prepared.BatchId, default);
        await engine.CleanupAsync(manifest, prepared.BatchId, null, default);
        return published;
    }

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A fingerprint of the whole table's content, to prove "untouched".</summary>
    public static Task<string> TableDigestAsync(string connectionString, string table) =>
        ScalarAsync<string>(connectionString, $"SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), 'empty') FROM {table} t");
}
