using System.Globalization;
using DuckDB.NET.Data;

namespace Writeback.Aggregate.Warehouse;

/// <summary>
/// Builds the embedded sample warehouse: schools, classes, students and their daily learning events (study
/// sessions per subject, test results), deterministic from a seed and a size.
/// </summary>
/// <remarks>
/// Everything is generated set-based inside DuckDB (<c>range()</c> joined and filtered) with pseudo-random values
/// taken from <c>hash(seed, …)</c>, so a million students take seconds rather than a per-row C# loop.
/// A student's figures for a day are a function of (seed, student, a "version" that advances every 4 days at a
/// per-student phase) and never of the generation window: the same date gives the same figures whatever window
/// was generated, and consecutive dates differ for about a quarter of the students — a new date changes only
/// what changed. Distributions: engagement per student skewed towards active (so some students are inactive on
/// any day), minutes log-normal (median 25, clipped 5–240), 0–2 tests a day, scores normal around the student's
/// ability (clipped 0–100), about 3% of students enrolling during 2026–2027.
/// </remarks>
public static class SampleWarehouse
{
    /// <summary>Bumped whenever the generated data would change, so a stored warehouse is regenerated, not reused.</summary>
    public const int GeneratorVersion = 1;

    public const long DefaultSeed = 42;

    private const int StudentsPerClass = 30;
    private const int ClassesPerSchool = 24;

    /// <summary>
    /// Generates a warehouse into <paramref name="path"/> (replacing any file there) holding events for
    /// <paramref name="anchorDate"/> ± <paramref name="daysAround"/> days. The file appears only when complete.
    /// </summary>
    public static WarehouseInfo Generate(string path, long seed, WarehouseSize size, DateOnly anchorDate, int daysAround = 2)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(daysAround);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(daysAround, 60);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var scratch = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var connection = DuckDb.OpenWritable(scratch))
            {
                foreach (var statement in Statements(seed, size, anchorDate.AddDays(-daysAround), anchorDate.AddDays(daysAround)))
                {
                    DuckDb.Execute(connection, statement);
                }

                DuckDb.Execute(connection, "CHECKPOINT");
            }

            File.Move(scratch, full, overwrite: true);
            File.Delete(full + ".wal");
        }
        finally
        {
            File.Delete(scratch);
            File.Delete(scratch + ".wal");
        }

        return Describe(full) ?? throw new InvalidOperationException($"the warehouse written to {full} cannot be read back");
    }

    /// <summary>Same as <see cref="Generate(string, long, WarehouseSize, DateOnly, int)"/> around today's UTC date.</summary>
    public static WarehouseInfo Generate(string path, long seed, WarehouseSize size) =>
        Generate(path, seed, size, DateOnly.FromDateTime(DateTime.UtcNow));

    /// <summary>
    /// Reuses the warehouse at <paramref name="path"/> when it was generated with the same seed, size and generator
    /// version and covers <paramref name="businessDate"/>; otherwise generates one around that date.
    /// </summary>
    public static WarehouseInfo Ensure(string path, long seed, WarehouseSize size, DateOnly businessDate, int daysAround = 2)
    {
        var existing = Describe(path);
        if (existing is not null && existing.Seed == seed && existing.Size == size &&
            existing.GeneratorVersion == GeneratorVersion && existing.Covers(businessDate))
        {
            return existing;
        }

        return Generate(path, seed, size, businessDate, daysAround);
    }

    /// <summary>What the warehouse at <paramref name="path"/> holds, or null when there is none (or it is not one of ours).</summary>
    public static WarehouseInfo? Describe(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var connection = DuckDb.OpenReadOnly(path);
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT seed, size, first_date, last_date, generator_version,
                       (SELECT count(*) FROM students), (SELECT count(*) FROM classes), (SELECT count(*) FROM schools),
                       (SELECT count(*) FROM study_sessions), (SELECT count(*) FROM test_results)
                FROM warehouse_info
                """;
            using var reader = command.ExecuteReader();
            if (!reader.Read() || !WarehouseSizes.TryParse(reader.GetString(1), out var size))
            {
                return null;
            }

            return new WarehouseInfo(
                Path.GetFullPath(path),
                reader.GetInt64(0),
                size,
                reader.GetFieldValue<DateOnly>(2),
                reader.GetFieldValue<DateOnly>(3),
                reader.GetInt64(5),
                reader.GetInt64(6),
                reader.GetInt64(7),
                reader.GetInt64(8),
                reader.GetInt64(9),
                reader.GetInt32(4));
        }
        catch (DuckDBException)
        {
            return null;
        }
    }

    private static IEnumerable<string> Statements(long seed, WarehouseSize size, DateOnly first, DateOnly last)
    {
        var students = size.Students();
        var classes = (students + StudentsPerClass - 1) / StudentsPerClass;
        var schools = (classes + ClassesPerSchool - 1) / ClassesPerSchool;
        var s = seed.ToString(CultureInfo.InvariantCulture);
        var from = Date(first);
        var to = Date(last);

        // Only generation: row order inside the tables does not matter, and not preserving it lets DuckDB
        // write with both cores.
        yield return "SET preserve_insertion_order = false";

        // u(h) = a uniform in [0,1) from 16 bits of a hash, so one hash call feeds several draws.
        yield return $"""
            CREATE TABLE warehouse_info AS
            SELECT {s}::BIGINT AS seed, '{size.Name()}' AS size, {from} AS first_date, {to} AS last_date,
                   {GeneratorVersion}::INTEGER AS generator_version
            """;

        yield return $"""
            CREATE TABLE schools AS
            SELECT school_id::INTEGER AS school_id,
                   'School ' || school_id AS name,
                   (['Tokyo', 'Osaka', 'Kanagawa', 'Aichi', 'Fukuoka', 'Hokkaido', 'Hyogo', 'Kyoto'])[(1 + hash({s}, 'prefecture', school_id) % 8)::BIGINT] AS prefecture
            FROM range(1, {schools + 1}) AS t(school_id)
            """;

        yield return $"""
            CREATE TABLE classes AS
            SELECT class_id::INTEGER AS class_id,
                   (1 + (class_id - 1) // {ClassesPerSchool})::INTEGER AS school_id,
                   (1 + ((class_id - 1) % {ClassesPerSchool}) // 4)::SMALLINT AS grade,
                   'Class ' || (1 + ((class_id - 1) % {ClassesPerSchool}) // 4) || '-' || chr((65 + (class_id - 1) % 4)::INTEGER) AS name
            FROM range(1, {classes + 1}) AS t(class_id)
            """;

        // Engagement (the chance of being active on a day) leans high: most students study most days.
        // Ability is the centre of the student's scores. Class sizes vary because classes are drawn by hash.
        yield return $"""
            CREATE TABLE students AS
            SELECT (10000000 + sid)::BIGINT AS student_id,
                   (1 + hash({s}, 'class', sid) % {classes})::INTEGER AS class_id,
                   CASE WHEN hash({s}, 'enrolled', sid) % 100 < 3
                        THEN DATE '2026-01-01' + (hash({s}, 'enrolled_day', sid) % 730)::INTEGER
                        ELSE DATE '2020-04-01' END AS enrolled_on,
                   0.2 + 0.78 * pow(hash({s}, 'engagement', sid) / 18446744073709551616.0, 0.6) AS engagement,
                   greatest(20, least(98, 65 + 12 * {Normal($"hash({s}, 'ability', sid)")})) AS ability,
                   (hash({s}, 'phase', sid) % 4)::INTEGER AS phase
            FROM range(1, {students + 1}) AS t(sid)
            """;

        // One row per student and day the student was active; h drives everything that happens that day.
        yield return $"""
            CREATE TEMP TABLE active_days AS
            SELECT student_id, event_date, day_number, ability, h
            FROM (
                SELECT s.student_id, d.event_date, d.day_number, s.ability, s.engagement, s.enrolled_on,
                       hash({s}, s.student_id, (d.day_number + s.phase) // 4) AS h
                FROM students AS s
                CROSS JOIN (
                    SELECT r::DATE AS event_date, date_diff('day', DATE '1970-01-01', r::DATE) AS day_number
                    FROM range({from}, {to} + 1, INTERVAL 1 DAY) AS t(r)) AS d
            )
            WHERE event_date >= enrolled_on
              AND {U("h", 0)} < engagement
            """;

        // Times are drawn as Japan wall-clock (07:00–22:00, i.e. 54,000 s from 07:00) and stored as UTC instants
        // (−9 h). The modulus is a plain literal: "% (15 * 3600)" makes DuckDB widen the hash and runs 50× slower. They are built
        // from epoch microseconds because casting or adding intervals to TIMESTAMPTZ goes through ICU row by row
        // and is an order of magnitude slower.
        yield return $"""
            CREATE TABLE study_sessions AS
            SELECT student_id, event_date, subject,
                   make_timestamptz((day_number * 86400 - 9 * 3600 + 7 * 3600 + ((h2 >> 16) % 54000)::BIGINT) * 1000000) AS started_at,
                   greatest(5, least(240, round(exp(ln(25) + 0.6 * {Normal("h2 >> 32")}))))::INTEGER AS minutes
            FROM (
                SELECT a.student_id, a.event_date, a.day_number, subj.subject, subj.p, hash(a.h, subj.k) AS h2
                FROM active_days AS a
                CROSS JOIN (VALUES ('math', 0.7, 1), ('language', 0.6, 2), ('science', 0.45, 3)) AS subj(subject, p, k)
            )
            WHERE {U("h2", 0)} < p
            """;

        yield return $"""
            CREATE TABLE test_results AS
            SELECT student_id, event_date,
                   (['math', 'language', 'science'])[(1 + (h3 >> 16) % 3)::BIGINT] AS subject,
                   make_timestamptz((day_number * 86400 - 9 * 3600 + 8 * 3600 + ((h3 >> 20) % 46800)::BIGINT) * 1000000) AS taken_at,
                   round(greatest(0, least(100, ability + 10 * {Normal("h3 >> 32")})), 1)::DECIMAL(5,2) AS score
            FROM (
                SELECT a.student_id, a.event_date, a.day_number, a.ability, hash(a.h, k) AS h3
                FROM active_days AS a
                CROSS JOIN range(2) AS t(k)
                WHERE k < CASE WHEN {U("a.h", 16)} < 0.55 THEN 0 WHEN {U("a.h", 16)} < 0.85 THEN 1 ELSE 2 END
            )
            """;

        yield return "DROP TABLE active_days";
    }

    /// <summary>A uniform draw in [0,1) from 16 bits of a hash starting at <paramref name="shift"/>.</summary>
    private static string U(string hash, int shift) => $"(((({hash}) >> {shift}) & 65535)::DOUBLE / 65536)";

    /// <summary>A standard normal draw (Box–Muller) from 32 bits of a hash.</summary>
    private static string Normal(string hash) =>
        $"(sqrt(-2 * ln(((({hash}) & 65535) + 1)::DOUBLE / 65537)) * cos(2 * pi() * (((({hash}) >> 16) & 65535)::DOUBLE / 65536)))";

    private static string Date(DateOnly date) => "DATE '" + date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "'";
}
