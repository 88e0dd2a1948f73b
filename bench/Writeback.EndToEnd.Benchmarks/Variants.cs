using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using DuckDB.NET.Data;
using Writeback.Core.Contracts;

namespace Writeback.EndToEnd.Benchmarks;

/// <summary>
/// A later export of the same day in which a given share of rows changed: each shard of the original rewritten by
/// DuckDB (as the exporter writes them) with study_minutes + 1 on the rows whose key hashes below the share, and a
/// manifest with a new batch id and a higher sequence, beside the original in the export folder.
/// </summary>
internal static class Variants
{
    public static string Write(string manifestUri, string exportsFolder, int changedPercent, long sequenceOffset)
    {
        var manifestPath = new Uri(manifestUri).LocalPath;
        var original = JsonSerializer.Deserialize(File.ReadAllText(manifestPath), ContractJson.Default.Manifest)
            ?? throw new InvalidOperationException($"{manifestPath} is not a manifest");
        var batchId = string.Create(CultureInfo.InvariantCulture, $"bench-{original.Dataset}-{original.Partition}-changed{changedPercent}");
        var folder = Path.Combine(exportsFolder, original.Dataset, original.Partition ?? "none", batchId);
        Directory.CreateDirectory(folder);

        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        var shards = new List<ShardEntry>();
        foreach (var shard in original.Shards)
        {
            var source = Path.Combine(Path.GetDirectoryName(manifestPath)!, shard.Uri);
            var target = Path.Combine(folder, shard.Uri);
            using (var command = duck.CreateCommand())
            {
                command.CommandText = $"""
                    COPY (SELECT * REPLACE (CASE WHEN hash(student_id) % 100 < {changedPercent} THEN study_minutes + 1 ELSE study_minutes END AS study_minutes)
                          FROM read_parquet('{source.Replace("'", "''", StringComparison.Ordinal)}'))
                    TO '{target.Replace("'", "''", StringComparison.Ordinal)}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)
                    """;
                command.ExecuteNonQuery();
            }

            using var file = File.OpenRead(target);
            shards.Add(new ShardEntry { Uri = shard.Uri, Rows = shard.Rows, Bytes = file.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(file)) });
        }

        var variant = original with { BatchId = batchId, Sequence = original.Sequence + sequenceOffset, GeneratedAt = DateTimeOffset.UtcNow, Shards = shards };
        var path = Path.Combine(folder, "manifest.json");
        File.WriteAllText(path, JsonSerializer.Serialize(variant, ContractJson.Default.Manifest));
        return new Uri(path).AbsoluteUri;
    }
}
