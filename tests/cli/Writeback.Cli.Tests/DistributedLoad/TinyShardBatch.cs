using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Cli.Tests.DistributedLoad;

/// <summary>
/// A class_summary batch of <c>shards</c> Parquet shards of one row each (class_id = shard index + 1), written the way
/// the exporter writes a batch: the shards and a manifest.json beside them, listing each one's rows, bytes and sha256.
/// </summary>
internal static class TinyShardBatch
{
    public static readonly DateOnly Day = new(2026, 11, 20);

    private static readonly DataField<int> ClassId = new("class_id");
    private static readonly DataField<int> SchoolId = new("school_id");
    private static readonly DataField<DateOnly> BusinessDate = new("business_date");
    private static readonly DataField<int> ActiveStudents = new("active_students");
    private static readonly DataField<long> TotalStudyMinutes = new("total_study_minutes");
    private static readonly DecimalDataField AverageScore = new("average_score", 5, 2, false, true);
    private static readonly DataField<int> TestsTaken = new("tests_taken");

    /// <summary>Writes the batch into <paramref name="folder"/>; returns the manifest's path.</summary>
    public static async Task<string> WriteAsync(string folder, string batchId, int shards)
    {
        Directory.CreateDirectory(folder);
        var schema = new ParquetSchema(ClassId, SchoolId, BusinessDate, ActiveStudents, TotalStudyMinutes, AverageScore, TestsTaken);
        var entries = new ShardEntry[shards];
        for (var i = 0; i < shards; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"shard-{i:D5}.parquet");
            using var buffer = new MemoryStream();
            await using (var writer = await ParquetWriter.CreateAsync(schema, buffer))
            {
                using var group = writer.CreateRowGroup();
                await group.WriteAsync<int>(ClassId, new[] { i + 1 });
                await group.WriteAsync<int>(SchoolId, new[] { 1 + (i % 50) });
                await group.WriteAsync<DateOnly>(BusinessDate, new[] { Day });
                await group.WriteAsync<int>(ActiveStudents, new[] { 1 + (i % 30) });
                await group.WriteAsync<long>(TotalStudyMinutes, new[] { 10L * i });
                await group.WriteAsync<decimal>(AverageScore, new decimal?[] { (i % 100) + 0.5m });
                await group.WriteAsync<int>(TestsTaken, new[] { i % 7 });
            }

            var bytes = buffer.ToArray();
            await File.WriteAllBytesAsync(Path.Combine(folder, name), bytes);
            entries[i] = new ShardEntry { Uri = name, Rows = 1, Bytes = bytes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) };
        }

        var manifest = new Manifest
        {
            Version = Manifest.CurrentVersion,
            BatchId = batchId,
            Dataset = "class_summary",
            Partition = Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            GeneratedAt = DateTimeOffset.UtcNow,
            Sequence = 1,
            Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            Schema =
            [
                new() { Name = "class_id", Type = "integer" },
                new() { Name = "school_id", Type = "integer" },
                new() { Name = "business_date", Type = "date" },
                new() { Name = "active_students", Type = "integer" },
                new() { Name = "total_study_minutes", Type = "bigint" },
                new() { Name = "average_score", Type = "numeric(5,2)" },
                new() { Name = "tests_taken", Type = "integer" },
            ],
            Shards = entries,
        };
        var path = Path.Combine(folder, "manifest.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(manifest, ContractJson.Default.Manifest));
        return path;
    }
}
