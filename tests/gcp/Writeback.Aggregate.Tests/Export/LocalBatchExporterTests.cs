using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using DuckDB.NET.Data;
using Parquet;
using Parquet.Meta;
using Writeback.Aggregate.Export;
using Writeback.Core.Contracts;

namespace Writeback.Aggregate.Tests.Export;

[Collection(SmallWarehouseGroup.Name)]
public sealed class LocalBatchExporterTests(SmallWarehouse warehouse)
{
    private const string Trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private static readonly DateOnly Day = SmallWarehouse.Anchor;

    [Fact]
    public async Task The_student_dashboard_has_one_row_per_enrolled_student_with_the_contract_columns()
    {
        var batch = await Export(Datasets.StudentDashboard, warehouse.NewOutputFolder());

        Assert.Equal(warehouse.EnrolledOn(Day), batch.Rows);
        Assert.Equal(Datasets.StudentDashboard.Columns, batch.Manifest.Schema);
        Assert.Equal(Datasets.StudentDashboard.SchemaVersion, batch.Manifest.SchemaVersion);
        Assert.Equal("2026-11-25", batch.Manifest.Partition);
        Assert.Equal("student_dashboard", batch.Manifest.Dataset);
        Assert.Equal(Trace, batch.Manifest.Traceparent);
    }

    [Fact]
    public async Task The_two_datasets_agree_on_minutes_tests_and_active_students()
    {
        var output = warehouse.NewOutputFolder();
        var students = await Export(Datasets.StudentDashboard, output);
        var classes = await Export(Datasets.ClassSummary, output);

        var perStudent = Query(ShardGlob(students),
            "SELECT sum(study_minutes), sum(tests_taken), count(*) FILTER (WHERE study_minutes > 0 OR tests_taken > 0), count(DISTINCT class_id) FROM shards");
        var perClass = Query(ShardGlob(classes),
            "SELECT sum(total_study_minutes), sum(tests_taken), sum(active_students), count(*) FROM shards");

        Assert.Equal(perStudent, perClass);
        Assert.True((long)perStudent[0] > 0);
    }

    [Fact]
    public async Task Student_figures_are_consistent_with_each_other()
    {
        var batch = await Export(Datasets.StudentDashboard, warehouse.NewOutputFolder());

        var checks = Query(ShardGlob(batch), """
            SELECT
              count(*) FILTER (WHERE study_minutes <> math_minutes + language_minutes + science_minutes),
              count(*) FILTER (WHERE tests_taken = 0 AND (average_score IS NOT NULL OR best_score IS NOT NULL)),
              count(*) FILTER (WHERE tests_taken > 0 AND NOT (average_score <= best_score AND best_score <= 100 AND average_score >= 0)),
              count(*) FILTER (WHERE business_date <> DATE '2026-11-25'),
              count(*) FILTER (WHERE last_active_at >= TIMESTAMPTZ '2026-11-26 04:00:00+09'),
              count(*) FILTER (WHERE study_minutes > 0 AND last_active_at IS NULL),
              count(*) FILTER (WHERE study_minutes = 0 AND tests_taken = 0),
              count(DISTINCT student_id) - count(*)
            FROM shards
            """);

        Assert.Equal([0L, 0L, 0L, 0L, 0L, 0L], checks.Take(6));
        Assert.True((long)checks[6] > 0, "some students should be inactive on the day");
        Assert.Equal(0L, checks[7]);
    }

    [Fact]
    public async Task A_students_row_matches_the_figures_computed_directly_from_the_raw_events()
    {
        var batch = await Export(Datasets.StudentDashboard, warehouse.NewOutputFolder());

        var mismatches = Query(ShardGlob(batch), $"""
            ATTACH '{warehouse.Path}' AS w (READ_ONLY);
            WITH raw AS (
              SELECT s.student_id,
                     (SELECT coalesce(sum(minutes), 0) FROM w.study_sessions x WHERE x.student_id = s.student_id AND x.event_date = DATE '2026-11-25') AS minutes,
                     (SELECT coalesce(sum(minutes), 0) FROM w.study_sessions x WHERE x.student_id = s.student_id AND x.event_date = DATE '2026-11-25' AND subject = 'science') AS science,
                     (SELECT count(*) FROM w.test_results x WHERE x.student_id = s.student_id AND x.event_date = DATE '2026-11-25') AS tests,
                     (SELECT max(score) FROM w.test_results x WHERE x.student_id = s.student_id AND x.event_date = DATE '2026-11-25') AS best
              FROM w.students s WHERE s.student_id % 97 = 0 AND s.enrolled_on <= DATE '2026-11-25')
            SELECT count(*) FILTER (WHERE d.student_id IS NULL OR (raw.minutes, raw.science, raw.tests, raw.best) IS DISTINCT FROM (d.study_minutes, d.science_minutes, d.tests_taken, d.best_score)),
                   count(*)
            FROM raw LEFT JOIN shards d USING (student_id)
            """);

        Assert.Equal(0L, mismatches[0]);
        Assert.True((long)mismatches[1] > 40);
    }

    [Fact]
    public async Task Shards_stay_under_the_size_bound_and_the_manifest_describes_the_files_written()
    {
        var output = warehouse.NewOutputFolder();
        var batch = await Export(Datasets.StudentDashboard, output, maxShardBytes: 32 * 1024);
        var folder = Path.GetDirectoryName(new Uri(batch.ManifestUri).LocalPath)!;

        Assert.True(batch.Manifest.Shards.Count >= 3, $"expected several shards, got {batch.Manifest.Shards.Count}");
        Assert.Equal(
            batch.Manifest.Shards.Select(s => s.Uri).Order(StringComparer.Ordinal),
            Directory.GetFiles(folder, "*.parquet").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var shard in batch.Manifest.Shards)
        {
            var path = Path.Combine(folder, shard.Uri);
            var bytes = await File.ReadAllBytesAsync(path);
            Assert.True(bytes.Length <= 32 * 1024, $"{shard.Uri} is {bytes.Length} bytes");
            Assert.Equal(bytes.Length, shard.Bytes);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), shard.Sha256);
            await using var reader = await ParquetReader.CreateAsync(path);
            Assert.Equal(shard.Rows, reader.Metadata!.NumRows);
        }

        Assert.Equal(warehouse.EnrolledOn(Day), batch.Manifest.Shards.Sum(s => s.Rows));
    }

    [Fact]
    public async Task Shards_hold_the_rows_in_key_order_without_gaps_or_overlaps()
    {
        var batch = await Export(Datasets.StudentDashboard, warehouse.NewOutputFolder(), maxShardBytes: 32 * 1024);
        var folder = Path.GetDirectoryName(new Uri(batch.ManifestUri).LocalPath)!;

        long previous = long.MinValue;
        foreach (var shard in batch.Manifest.Shards)
        {
            var range = Query(Path.Combine(folder, shard.Uri), "SELECT min(student_id), max(student_id), count(*) FROM shards");
            Assert.True((long)range[0] > previous);
            previous = (long)range[1];
        }
    }

    [Fact]
    public async Task The_manifest_on_disk_is_the_contract_json()
    {
        var batch = await Export(Datasets.ClassSummary, warehouse.NewOutputFolder());
        var path = new Uri(batch.ManifestUri).LocalPath;

        var json = await File.ReadAllTextAsync(path);
        var read = JsonSerializer.Deserialize(json, ContractJson.Default.Manifest)!;

        Assert.Equal("manifest.json", Path.GetFileName(path));
        Assert.Equal(batch.Manifest.BatchId, read.BatchId);
        Assert.Equal(batch.Manifest.Shards, read.Shards);
        Assert.Equal(batch.Manifest.GeneratedAt.ToUnixTimeMilliseconds(), read.Sequence);
        Assert.StartsWith("file://", batch.ManifestUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parquet_columns_carry_the_physical_and_logical_types_the_loader_expects()
    {
        var batch = await Export(Datasets.StudentDashboard, warehouse.NewOutputFolder());
        var shard = Path.Combine(Path.GetDirectoryName(new Uri(batch.ManifestUri).LocalPath)!, batch.Manifest.Shards[0].Uri);

        await using var reader = await ParquetReader.CreateAsync(shard);
        var columns = reader.Metadata!.Schema.Skip(1).ToDictionary(e => e.Name);

        AssertInteger(columns["student_id"], Parquet.Meta.Type.INT64, 64);
        AssertInteger(columns["school_id"], Parquet.Meta.Type.INT32, 32);
        AssertInteger(columns["study_minutes"], Parquet.Meta.Type.INT32, 32);
        AssertInteger(columns["tests_taken"], Parquet.Meta.Type.INT32, 16);
        Assert.Equal(ConvertedType.DECIMAL, columns["average_score"].ConvertedType);
        Assert.Equal((5, 2), (columns["average_score"].Precision, columns["average_score"].Scale));
        Assert.Equal(ConvertedType.DATE, columns["business_date"].ConvertedType);
        Assert.NotNull(columns["last_active_at"].LogicalType?.TIMESTAMP);
        Assert.True(columns["last_active_at"].LogicalType!.TIMESTAMP!.IsAdjustedToUTC);
        Assert.Equal(FieldRepetitionType.OPTIONAL, columns["best_score"].RepetitionType);
    }

    [Fact]
    public async Task Exporting_the_same_data_again_later_is_a_new_batch_with_the_same_content()
    {
        var output = warehouse.NewOutputFolder();
        var first = await Export(Datasets.StudentDashboard, output, at: At);

        var second = await Export(Datasets.StudentDashboard, output, trace: "00-11111111111111111111111111111111-2222222222222222-01", at: At.AddMinutes(5));

        Assert.False(first.Reused);
        Assert.False(second.Reused);
        Assert.NotEqual(first.Manifest.BatchId, second.Manifest.BatchId);
        Assert.True(second.Manifest.Sequence > first.Manifest.Sequence);
        Assert.Equal(first.Manifest.Shards.Select(s => s.Sha256), second.Manifest.Shards.Select(s => s.Sha256));
        // The content part of the id is the same: a reader sees the two batches carry equal data.
        Assert.Equal(first.Manifest.BatchId[..^(first.Manifest.Sequence.ToString(CultureInfo.InvariantCulture).Length)],
            second.Manifest.BatchId[..^(second.Manifest.Sequence.ToString(CultureInfo.InvariantCulture).Length)]);
    }

    [Fact]
    public async Task The_same_export_written_twice_is_one_batch_and_its_manifest_is_reused()
    {
        var output = warehouse.NewOutputFolder();
        var first = await Export(Datasets.StudentDashboard, output, at: At);

        var again = await Export(Datasets.StudentDashboard, output, at: At);

        Assert.True(again.Reused);
        Assert.Equal(first.Manifest.BatchId, again.Manifest.BatchId);
        Assert.Equal(first.ManifestUri, again.ManifestUri);
    }

    [Fact]
    public async Task The_batch_id_is_a_function_of_content_date_and_export_time()
    {
        var first = await Export(Datasets.StudentDashboard, warehouse.NewOutputFolder(), at: At);
        var elsewhere = await Export(Datasets.StudentDashboard, warehouse.NewOutputFolder(), at: At);
        var nextDay = await Export(Datasets.StudentDashboard, warehouse.NewOutputFolder(), day: Day.AddDays(1), at: At);

        Assert.Equal(first.Manifest.BatchId, elsewhere.Manifest.BatchId);
        Assert.NotEqual(first.Manifest.BatchId, nextDay.Manifest.BatchId);
        Assert.Equal($"student_dashboard-20261125-{first.Manifest.BatchId.Split('-')[2]}-{At.ToUnixTimeMilliseconds()}", first.Manifest.BatchId);
        Assert.Matches("^student_dashboard-20261125-[0-9a-f]{12}-[0-9]+$", first.Manifest.BatchId);
        Assert.Matches("^[0-9A-Za-z_-]{1,80}$", nextDay.Manifest.BatchId);
    }

    [Fact]
    public async Task The_next_day_keeps_most_students_figures_and_changes_some()
    {
        var output = warehouse.NewOutputFolder();
        var today = await Export(Datasets.StudentDashboard, output);
        var tomorrow = await Export(Datasets.StudentDashboard, output, day: Day.AddDays(1));

        var changed = (long)Query(ShardGlob(today), $"""
            SELECT count(*) FROM shards AS a
            JOIN read_parquet('{ShardGlob(tomorrow)}') AS b USING (student_id)
            WHERE (a.study_minutes, a.math_minutes, a.tests_taken, a.average_score)
                  IS DISTINCT FROM (b.study_minutes, b.math_minutes, b.tests_taken, b.average_score)
            """)[0];

        Assert.InRange(changed, 1, warehouse.Info.Students / 2);
    }

    [Fact]
    public async Task A_date_outside_the_warehouse_is_bad_input()
    {
        var error = await Assert.ThrowsAsync<AggregateInputException>(() =>
            Export(Datasets.StudentDashboard, warehouse.NewOutputFolder(), day: new DateOnly(2027, 3, 1)));

        Assert.Contains("no data for 2027-03-01", error.Message, StringComparison.Ordinal);
    }

    private static readonly DateTimeOffset At = new(2026, 11, 25, 22, 0, 0, TimeSpan.Zero);

    private Task<ExportedBatch> Export(DatasetDefinition dataset, string output, long maxShardBytes = LocalExportOptions.DefaultMaxShardBytes, DateOnly? day = null, string trace = Trace, DateTimeOffset? at = null) =>
        new LocalBatchExporter(new LocalExportOptions { WarehousePath = warehouse.Path, OutputRoot = output, MaxShardBytes = maxShardBytes }, at is { } time ? new FixedTime(time) : null)
            .ExportAsync(dataset, day ?? Day, trace, CancellationToken.None);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static void AssertInteger(SchemaElement column, Parquet.Meta.Type physical, int bits)
    {
        Assert.Equal(physical, column.Type);
        var width = column.LogicalType?.INTEGER?.BitWidth ?? column.ConvertedType switch
        {
            ConvertedType.INT_16 => 16,
            ConvertedType.INT_32 => 32,
            ConvertedType.INT_64 => 64,
            _ => physical == Parquet.Meta.Type.INT64 ? 64 : 32,
        };
        Assert.Equal(bits, width);
        Assert.True(column.LogicalType?.INTEGER?.IsSigned ?? true);
    }

    private static string ShardGlob(ExportedBatch batch) =>
        Path.Combine(Path.GetDirectoryName(new Uri(batch.ManifestUri).LocalPath)!, "*.parquet");

    private static object[] Query(string parquet, string sql)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SET TimeZone = 'UTC'; CREATE VIEW shards AS SELECT * FROM read_parquet('{parquet}'); " + sql;
        using var reader = command.ExecuteReader();
        reader.Read();
        var values = new object[reader.FieldCount];
        reader.GetValues(values);
        return values.Select(v => v switch
        {
            System.Numerics.BigInteger big => (long)big,
            int or short or decimal or ulong => Convert.ToInt64(v),
            _ => v,
        }).ToArray();
    }
}
