namespace Writeback.Aggregate.Models;

/// <summary>The SQL engines a model compiles for: the embedded warehouse locally, BigQuery in the cloud.</summary>
public enum SqlDialect
{
    DuckDb,
    BigQuery,
}

/// <summary>Parses the spellings used in SQL files (<c>-- dialect: duckdb</c>) and on command lines.</summary>
public static class SqlDialects
{
    public static bool TryParse(string text, out SqlDialect dialect)
    {
        switch (text.Trim().ToUpperInvariant())
        {
            case "DUCKDB":
                dialect = SqlDialect.DuckDb;
                return true;
            case "BIGQUERY":
                dialect = SqlDialect.BigQuery;
                return true;
            default:
                dialect = default;
                return false;
        }
    }

    /// <summary>
    /// The dialect's spelling of a contract (PostgreSQL) type. BigQuery has one integer type, so smallint and
    /// integer columns arrive as INT64 and the loader narrows them against the contract.
    /// </summary>
    public static string TypeName(SqlDialect dialect, string contractType)
    {
        var t = contractType.Trim().ToLowerInvariant();
        if (t.StartsWith("numeric(", StringComparison.Ordinal) && t.EndsWith(')'))
        {
            // BigQuery exports NUMERIC to Parquet as DECIMAL(38,9) whatever the declared precision, so the models
            // round explicitly and the plain type is used; the loader rescales to the contract's numeric(p,s).
            var args = t["numeric(".Length..^1].Replace(" ", "", StringComparison.Ordinal);
            return dialect == SqlDialect.DuckDb ? $"DECIMAL({args})" : "NUMERIC";
        }

        return (dialect, t) switch
        {
            (SqlDialect.DuckDb, "smallint") => "SMALLINT",
            (SqlDialect.DuckDb, "integer") => "INTEGER",
            (SqlDialect.DuckDb, "bigint") => "BIGINT",
            (SqlDialect.DuckDb, "date") => "DATE",
            (SqlDialect.DuckDb, "timestamptz") => "TIMESTAMPTZ",
            (SqlDialect.DuckDb, "text") => "VARCHAR",
            (SqlDialect.DuckDb, "boolean") => "BOOLEAN",
            (SqlDialect.DuckDb, "double precision") => "DOUBLE",
            (SqlDialect.BigQuery, "smallint" or "integer" or "bigint") => "INT64",
            (SqlDialect.BigQuery, "date") => "DATE",
            (SqlDialect.BigQuery, "timestamptz") => "TIMESTAMP",
            (SqlDialect.BigQuery, "text") => "STRING",
            (SqlDialect.BigQuery, "boolean") => "BOOL",
            (SqlDialect.BigQuery, "double precision") => "FLOAT64",
            _ => throw new SqlModelException($"type \"{contractType}\" has no {dialect} spelling"),
        };
    }
}
