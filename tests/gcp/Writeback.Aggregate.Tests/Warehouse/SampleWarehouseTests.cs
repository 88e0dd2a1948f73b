using DuckDB.NET.Data;
using Writeback.Aggregate.Warehouse;

namespace Writeback.Aggregate.Tests.Warehouse;

[Collection(SmallWarehouseGroup.Name)]
public sealed class SampleWarehouseTests(SmallWarehouse warehouse)
{
    [Fact]
    public void The_same_seed_and_size_generate_identical_data()
    {
        var again = Path.Combine(warehouse.Folder, "again.duckdb");
        SampleWarehouse.Generate(again, SampleWarehouse.DefaultSeed, WarehouseSize.Small, SmallWarehouse.Anchor);

        foreach (var table in new[] { "schools", "classes", "students", "study_sessions", "test_results" })
        {
            Assert.Equal(TableDigest(warehouse.Path, table), TableDigest(again, table));
        }
    }

    [Fact]
    public void A_different_seed_generates_different_data()
    {
        var other = Path.Combine(warehouse.Folder, "other-seed.duckdb");
        SampleWarehouse.Generate(other, 7, WarehouseSize.Small, SmallWarehouse.Anchor);

        Assert.NotEqual(TableDigest(warehouse.Path, "study_sessions"), TableDigest(other, "study_sessions"));
    }

    [Fact]
    public void A_day_has_the_same_figures_whatever_window_was_generated()
    {
        var shifted = Path.Combine(warehouse.Folder, "shifted.duckdb");
        SampleWarehouse.Generate(shifted, SampleWarehouse.DefaultSeed, WarehouseSize.Small, SmallWarehouse.Anchor.AddDays(2));

        Assert.Equal(
            TableDigest(warehouse.Path, "study_sessions", "event_date = DATE '2026-11-25'"),
            TableDigest(shifted, "study_sessions", "event_date = DATE '2026-11-25'"));
    }

    [Fact]
    public void The_warehouse_records_what_it_holds()
    {
        var info = warehouse.Info;

        Assert.Equal(WarehouseSize.Small, info.Size);
        Assert.Equal(SampleWarehouse.DefaultSeed, info.Seed);
        Assert.Equal(new DateOnly(2026, 11, 23), info.FirstDate);
        Assert.Equal(new DateOnly(2026, 11, 27), info.LastDate);
        Assert.Equal(5_000, info.Students);
        Assert.True(info.Covers(SmallWarehouse.Anchor));
        Assert.False(info.Covers(new DateOnly(2026, 12, 1)));
    }

    [Fact]
    public void Some_students_are_inactive_on_a_day_and_most_are_active()
    {
        var active = Scalar<long>(warehouse.Path, """
            SELECT count(DISTINCT student_id) FROM (
              SELECT student_id FROM study_sessions WHERE event_date = DATE '2026-11-25'
              UNION ALL SELECT student_id FROM test_results WHERE event_date = DATE '2026-11-25')
            """);

        Assert.InRange(active, 5_000 * 0.5, 5_000 * 0.9);
    }

    [Fact]
    public void Scores_lie_between_0_and_100_around_a_plausible_mean()
    {
        using var connection = Open(warehouse.Path);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT min(score), max(score), avg(score)::DOUBLE, stddev(score)::DOUBLE FROM test_results";
        using var reader = command.ExecuteReader();
        reader.Read();

        Assert.True(reader.GetDecimal(0) >= 0m);
        Assert.True(reader.GetDecimal(1) <= 100m);
        Assert.InRange(reader.GetDouble(2), 55, 75);
        Assert.InRange(reader.GetDouble(3), 8, 25);
    }

    [Fact]
    public void Study_minutes_are_skewed_with_a_long_tail()
    {
        using var connection = Open(warehouse.Path);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT min(minutes), median(minutes)::DOUBLE, avg(minutes)::DOUBLE, max(minutes) FROM study_sessions";
        using var reader = command.ExecuteReader();
        reader.Read();

        Assert.True(reader.GetInt32(0) >= 5);
        Assert.True(reader.GetDouble(2) > reader.GetDouble(1), "the mean should exceed the median (right skew)");
        Assert.True(reader.GetInt32(3) <= 240);
        Assert.True(reader.GetInt32(3) >= 90);
    }

    [Fact]
    public void Consecutive_days_differ_for_some_students_but_not_most()
    {
        var changed = Scalar<long>(warehouse.Path, """
            WITH d AS (
              SELECT student_id, event_date, sum(minutes) AS m FROM study_sessions GROUP BY ALL)
            SELECT count(*) FROM students s
            WHERE (SELECT m FROM d WHERE d.student_id = s.student_id AND event_date = DATE '2026-11-25')
                  IS DISTINCT FROM
                  (SELECT m FROM d WHERE d.student_id = s.student_id AND event_date = DATE '2026-11-26')
            """);

        Assert.InRange(changed, 5_000 * 0.05, 5_000 * 0.5);
    }

    [Fact]
    public void Ensure_reuses_a_warehouse_that_covers_the_date()
    {
        var path = Path.Combine(warehouse.Folder, "ensure.duckdb");
        SampleWarehouse.Generate(path, SampleWarehouse.DefaultSeed, WarehouseSize.Small, SmallWarehouse.Anchor);
        var written = File.GetLastWriteTimeUtc(path);

        var reused = SampleWarehouse.Ensure(path, SampleWarehouse.DefaultSeed, WarehouseSize.Small, SmallWarehouse.Anchor.AddDays(1));

        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
        Assert.Equal(SmallWarehouse.Anchor.AddDays(-2), reused.FirstDate);
    }

    [Fact]
    public void Ensure_regenerates_for_a_date_outside_the_window()
    {
        var path = Path.Combine(warehouse.Folder, "ensure-outside.duckdb");
        SampleWarehouse.Generate(path, SampleWarehouse.DefaultSeed, WarehouseSize.Small, SmallWarehouse.Anchor);

        var regenerated = SampleWarehouse.Ensure(path, SampleWarehouse.DefaultSeed, WarehouseSize.Small, new DateOnly(2027, 1, 10));

        Assert.True(regenerated.Covers(new DateOnly(2027, 1, 10)));
    }

    [Fact]
    public void Describe_answers_null_when_there_is_no_warehouse()
    {
        Assert.Null(SampleWarehouse.Describe(Path.Combine(warehouse.Folder, "missing.duckdb")));
    }

    private static DuckDBConnection Open(string path)
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SET TimeZone = 'UTC'; ATTACH '{path}' AS w (READ_ONLY); USE w;";
        command.ExecuteNonQuery();
        return connection;
    }

    private static T Scalar<T>(string path, string sql)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)command.ExecuteScalar()!;
    }

    private static string TableDigest(string path, string table, string where = "true") =>
        Scalar<long>(path, $"SELECT count(*) FROM {table} WHERE {where}") + ":" +
        Scalar<object>(path, $"SELECT sum(hash(t)::HUGEINT)::VARCHAR FROM {table} AS t WHERE {where}");
}
