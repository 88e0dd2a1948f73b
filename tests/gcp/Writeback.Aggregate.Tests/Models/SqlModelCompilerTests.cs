using Writeback.Aggregate.Models;

namespace Writeback.Aggregate.Tests.Models;

public sealed class SqlModelCompilerTests
{
    private static readonly ModelParameters Day = new(new DateOnly(2026, 11, 25), "my-project.warehouse");
    private readonly SqlModelCompiler _compiler = new();

    [Theory]
    [InlineData("student_dashboard", SqlDialect.DuckDb)]
    [InlineData("student_dashboard", SqlDialect.BigQuery)]
    [InlineData("class_summary", SqlDialect.DuckDb)]
    [InlineData("class_summary", SqlDialect.BigQuery)]
    public void Both_models_compile_for_both_dialects_into_one_WITH_chain(string model, SqlDialect dialect)
    {
        var compiled = _compiler.Compile(model, dialect, Day);

        Assert.StartsWith("WITH enrolled_students AS (", compiled.Sql, StringComparison.Ordinal);
        Assert.Equal(["enrolled_students", "study_minutes_by_subject", "test_scores", "last_activity", "student_day"], compiled.Parts);
        Assert.DoesNotContain("{{", compiled.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain("-- include:", compiled.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain("-- dialect:", compiled.Sql, StringComparison.Ordinal);
        Assert.Contains("DATE '2026-11-25'", compiled.Sql, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("student_dashboard")]
    [InlineData("class_summary")]
    public void Each_part_is_emitted_once_even_when_included_by_several_files(string model)
    {
        var sql = _compiler.Compile(model, SqlDialect.DuckDb, Day).Sql;

        foreach (var part in new[] { "enrolled_students", "study_minutes_by_subject", "test_scores", "last_activity", "student_day" })
        {
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(sql, $@"\b{part} AS \("));
        }
    }

    [Fact]
    public void The_DuckDB_text_uses_DuckDB_types_and_functions_and_unqualified_tables()
    {
        var sql = _compiler.Compile("student_dashboard", SqlDialect.DuckDb, Day).Sql;

        Assert.Contains("AS DECIMAL(5,2)", sql, StringComparison.Ordinal);
        Assert.Contains("AS SMALLINT", sql, StringComparison.Ordinal);
        Assert.Contains("AS TIMESTAMPTZ", sql, StringComparison.Ordinal);
        Assert.Contains("make_timestamptz(epoch_us(started_at) + CAST(minutes AS BIGINT) * 60000000)", sql, StringComparison.Ordinal);
        Assert.Contains("- INTERVAL 30 DAY", sql, StringComparison.Ordinal);
        Assert.Contains("FROM study_sessions", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("TIMESTAMP_ADD", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("INT64", sql, StringComparison.Ordinal);
    }

    [Fact]
    public void The_BigQuery_text_uses_standard_SQL_types_and_functions_and_qualified_tables()
    {
        var sql = _compiler.Compile("student_dashboard", SqlDialect.BigQuery, Day).Sql;

        Assert.Contains("CAST(ROUND(average_score, 2) AS NUMERIC)", sql, StringComparison.Ordinal);
        Assert.Contains("AS INT64", sql, StringComparison.Ordinal);
        Assert.Contains("AS TIMESTAMP)", sql, StringComparison.Ordinal);
        Assert.Contains("TIMESTAMP_ADD(started_at, INTERVAL minutes MINUTE)", sql, StringComparison.Ordinal);
        Assert.Contains("DATE_SUB(DATE '2026-11-25', INTERVAL 30 DAY)", sql, StringComparison.Ordinal);
        Assert.Contains("FROM `my-project.warehouse.study_sessions`", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("epoch_us", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("DECIMAL", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("SMALLINT", sql, StringComparison.Ordinal);
    }

    [Fact]
    public void Parts_come_after_the_parts_they_include()
    {
        var source = new MemorySqlSource(
            models: new() { ["m"] = "-- include: c\nSELECT * FROM c" },
            parts: new() { ["a"] = "SELECT 1 AS x", ["b"] = "-- include: a\nSELECT x FROM a", ["c"] = "-- include: b\n-- include: a\nSELECT x FROM b JOIN a USING (x);" });

        var compiled = new SqlModelCompiler(source).Compile("m", SqlDialect.DuckDb, Day);

        Assert.Equal(["a", "b", "c"], compiled.Parts);
        Assert.Equal("WITH a AS (\n  SELECT 1 AS x\n),\nb AS (\n  SELECT x FROM a\n),\nc AS (\n  SELECT x FROM b JOIN a USING (x)\n)\nSELECT * FROM c", compiled.Sql);
    }

    [Fact]
    public void A_cycle_of_includes_is_refused_with_the_path()
    {
        var source = new MemorySqlSource(
            models: new() { ["m"] = "-- include: a\nSELECT 1" },
            parts: new() { ["a"] = "-- include: b\nSELECT 1", ["b"] = "-- include: a\nSELECT 1" });

        var error = Assert.Throws<SqlModelException>(() => new SqlModelCompiler(source).Compile("m", SqlDialect.DuckDb, Day));

        Assert.Contains("a -> b -> a", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_part_is_named_in_the_error()
    {
        var source = new MemorySqlSource(models: new() { ["m"] = "-- include: nowhere\nSELECT 1" }, parts: new());

        var error = Assert.Throws<SqlModelException>(() => new SqlModelCompiler(source).Compile("m", SqlDialect.DuckDb, Day));

        Assert.Contains("no part named \"nowhere\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELECT {{ nope }}", "unknown macro")]
    [InlineData("-- dialect: oracle\nSELECT 1\n-- dialect: end", "unknown dialect")]
    [InlineData("-- dialect: duckdb\nSELECT 1", "not closed")]
    [InlineData("SELECT * FROM {{ table \"x; DROP\" }}", "not a valid name")]
    [InlineData("SELECT CAST(1 AS {{ type \"money\" }})", "no DuckDb spelling")]
    public void Malformed_sql_files_are_refused_with_a_clear_message(string model, string expected)
    {
        var source = new MemorySqlSource(models: new() { ["m"] = model }, parts: new());

        var error = Assert.Throws<SqlModelException>(() => new SqlModelCompiler(source).Compile("m", SqlDialect.DuckDb, Day));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_model_is_refused()
    {
        Assert.Throws<SqlModelException>(() => _compiler.Compile("no_such_model", SqlDialect.DuckDb, Day));
        Assert.Throws<SqlModelException>(() => _compiler.Compile("../etc/passwd", SqlDialect.DuckDb, Day));
    }

    [Fact]
    public void The_sql_folder_on_disk_compiles_to_the_same_text_as_the_embedded_copy()
    {
        var root = Path.Combine(RepositoryRoot(), "sql");

        var fromDisk = new SqlModelCompiler(new DirectorySqlSource(root)).Compile("student_dashboard", SqlDialect.BigQuery, Day);

        Assert.Equal(_compiler.Compile("student_dashboard", SqlDialect.BigQuery, Day).Sql, fromDisk.Sql);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !Directory.Exists(Path.Combine(directory.FullName, "sql", "models")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("no sql/ folder above the test binaries");
    }

    private sealed class MemorySqlSource(Dictionary<string, string> models, Dictionary<string, string> parts) : ISqlSource
    {
        public string? FindModel(string name) => models.GetValueOrDefault(name);

        public string? FindPart(string name) => parts.GetValueOrDefault(name);
    }
}
