using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Benchmarks;

/// <summary>Deterministic rows shaped like the student_dashboard target, as Parquet (DuckDB-like types) and CSV.</summary>
internal static class BenchData
{
    public static readonly DateOnly BusinessDate = new(2026, 11, 1);

    public static readonly (string Name, string Type, bool Nullable)[] Columns =
    [
        ("student_id", "bigint", false), ("school_id", "integer", false), ("class_id", "integer", false), ("business_date", "date", false),
        ("study_minutes", "integer", false), ("math_minutes", "integer", false), ("language_minutes", "integer", false), ("science_minutes", "integer", false),
        ("tests_taken", "smallint", false), ("average_score", "numeric(5,2)", true), ("best_score", "numeric(5,2)", true), ("last_active_at", "timestamptz", true),
    ];

    public static Target Target(string table, LoadMode mode) => new()
    {
        Version = 1,
        Dataset = table,
        Table = "bench." + table,
        Columns = [.. Columns.Select(c => new TargetColumn { Name = c.Name, Type = c.Type, Nullable = c.Nullable })],
        Key = ["student_id", "business_date"],
        LoadMode = mode,
        PartitionColumn = mode == LoadMode.ReplacePartition ? "business_date" : null,
    };

    private static readonly DataField[] Fields =
    [
        new DataField<long>("student_id"), new DataField<int>("school_id"), new DataField<int>("class_id"), new DataField<DateOnly>("business_date"),
        new DataField<int>("study_minutes"), new DataField<int>("math_minutes"), new DataField<int>("language_minutes"), new DataField<int>("science_minutes"),
        new DataField<short>("tests_taken"), new DecimalDataField("average_score", 5, 2, false, true), new DecimalDataField("best_score", 5, 2, false, true),
        new DateTimeDataField("last_active_at", DateTimeFormat.Timestamp, true, DateTimeTimeUnit.Micros, isNullable: true),
    ];

    private static int Mix(long i, int salt) => (int)((ulong)((i + 1) * 2654435761L ^ (salt * 40503L)) % 1_000_003UL);

    /// <summary>Writes rows [first, first+count) in row groups of <paramref name="rowGroup"/>; <paramref name="changeEvery"/> alters every n-th row.</summary>
    public static async Task WriteParquetAsync(string path, long first, long count, int rowGroup = 122_880, int changeEvery = 0)
    {
        await using var file = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(Fields), file);
        var student = new long[rowGroup];
        var school = new int[rowGroup];
        var klass = new int[rowGroup];
        var date = new DateOnly[rowGroup];
        var study = new int[rowGroup];
        var math = new int[rowGroup];
        var language = new int[rowGroup];
        var science = new int[rowGroup];
        var tests = new short[rowGroup];
        var average = new decimal?[rowGroup];
        var best = new decimal?[rowGroup];
        var active = new DateTime?[rowGroup];
        for (var start = 0L; start < count; start += rowGroup)
        {
            var n = (int)Math.Min(rowGroup, count - start);
            for (var r = 0; r < n; r++)
            {
                var i = first + start + r;
                var m = Mix(i, 1);
                student[r] = i + 1;
                school[r] = (int)(i / 400 % 5000) + 1;
                klass[r] = (int)(i / 30) + 1;
                date[r] = BusinessDate;
                math[r] = m % 90;
                language[r] = m / 90 % 90;
                science[r] = m / 8100 % 90;
                study[r] = math[r] + language[r] + science[r] + (changeEvery > 0 && i % changeEvery == 0 ? 1 : 0);
                tests[r] = (short)(m % 4);
                average[r] = tests[r] == 0 ? null : (m % 10001) / 100m;
                best[r] = tests[r] == 0 ? null : Math.Min(100m, average[r]!.Value + 7.5m);
                active[r] = m % 7 == 0 ? null : new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(m % 86_400);
            }

            using var group = writer.CreateRowGroup();
            await group.WriteAsync<long>(Fields[0], student.AsMemory(0, n));
            await group.WriteAsync<int>(Fields[1], school.AsMemory(0, n));
            await group.WriteAsync<int>(Fields[2], klass.AsMemory(0, n));
            await group.WriteAsync<DateOnly>(Fields[3], date.AsMemory(0, n));
            await group.WriteAsync<int>(Fields[4], study.AsMemory(0, n));
            await group.WriteAsync<int>(Fields[5], math.AsMemory(0, n));
            await group.WriteAsync<int>(Fields[6], language.AsMemory(0, n));
            await group.WriteAsync<int>(Fields[7], science.AsMemory(0, n));
            await group.WriteAsync<short>(Fields[8], tests.AsMemory(0, n));
            await group.WriteAsync<decimal>(Fields[9], average.AsMemory(0, n));
            await group.WriteAsync<decimal>(Fields[10], best.AsMemory(0, n));
            await group.WriteAsync<DateTime>(Fields[11], active.AsMemory(0, n));
        }
    }

    /// <summary>The same rows as CSV, for psql \copy.</summary>
    public static async Task WriteCsvAsync(string path, long first, long count)
    {
        await using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        var line = new StringBuilder();
        for (var i = first; i < first + count; i++)
        {
            var m = Mix(i, 1);
            var math = m % 90;
            var language = m / 90 % 90;
            var science = m / 8100 % 90;
            var tests = (short)(m % 4);
            decimal? average = tests == 0 ? null : (m % 10001) / 100m;
            decimal? best = tests == 0 ? null : Math.Min(100m, average!.Value + 7.5m);
            DateTime? active = m % 7 == 0 ? null : new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(m % 86_400);
            line.Clear();
            line.Append(CultureInfo.InvariantCulture, $"{i + 1},{(i / 400 % 5000) + 1},{(i / 30) + 1},2026-11-01,{math + language + science},{math},{language},{science},{tests},");
            line.Append(average?.ToString(CultureInfo.InvariantCulture)).Append(',').Append(best?.ToString(CultureInfo.InvariantCulture)).Append(',');
            line.Append(active?.ToString("yyyy-MM-dd HH:mm:ss'+00'", CultureInfo.InvariantCulture));
            await writer.WriteLineAsync(line);
        }
    }

    /// <summary>A manifest listing <paramref name="shards"/> (file, rows) pairs; the same file may appear more than once.</summary>
    public static string WriteManifest(string folder, string batchId, string dataset, IReadOnlyList<(string Path, long Rows)> shards, long sequence)
    {
        var hashes = new Dictionary<string, (long Bytes, string Sha)>();
        var entries = new List<ShardEntry>();
        foreach (var (path, rows) in shards)
        {
            if (!hashes.TryGetValue(path, out var info))
            {
                using var stream = File.OpenRead(path);
                info = (stream.Length, Convert.ToHexStringLower(SHA256.HashData(stream)));
                hashes[path] = info;
            }

            entries.Add(new ShardEntry { Uri = path, Rows = rows, Bytes = info.Bytes, Sha256 = info.Sha });
        }

        var manifest = new Manifest
        {
            Version = 1,
            BatchId = batchId,
            Dataset = dataset,
            Partition = "2026-11-01",
            GeneratedAt = DateTimeOffset.UtcNow,
            Sequence = sequence,
            Schema = [.. Columns.Select(c => new ShardColumn { Name = c.Name, Type = c.Type })],
            Shards = entries,
        };
        var manifestPath = Path.Combine(folder, batchId + ".manifest.json");
        File.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest, ContractJson.Default.Manifest));
        return manifestPath;
    }
}
