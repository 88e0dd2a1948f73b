using System.Data.Common;
using DuckDB.NET.Data;

namespace Writeback.Aggregate.Warehouse;

/// <summary>Small helpers over DuckDB.NET's ADO.NET surface, shared by the generator and the exporter.</summary>
internal static class DuckDb
{
    /// <summary>
    /// An in-memory session with the warehouse file attached read-only and selected, so several exports can read
    /// one warehouse at once and scratch tables never touch it. The session runs in UTC so TIMESTAMPTZ values
    /// do not depend on the machine's time zone.
    /// </summary>
    public static DuckDBConnection OpenReadOnly(string warehousePath)
    {
        if (!File.Exists(warehousePath))
        {
            throw new FileNotFoundException($"no warehouse at {warehousePath}; generate one first (writeback demo builds it)", warehousePath);
        }

        var connection = new DuckDBConnection("Data Source=:memory:");
        try
        {
            connection.Open();
            Execute(connection, "SET TimeZone = 'UTC'");
            Execute(connection, $"ATTACH {Literal(Path.GetFullPath(warehousePath))} AS warehouse (READ_ONLY)");
            Execute(connection, "USE warehouse");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public static DuckDBConnection OpenWritable(string path)
    {
        var connection = new DuckDBConnection($"Data Source={path}");
        try
        {
            connection.Open();
            Execute(connection, "SET TimeZone = 'UTC'");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static T Scalar<T>(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = command.ExecuteScalar();
        return value is T t ? t : (T)Convert.ChangeType(value!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A SQL string literal; used only for file paths, which DuckDB's COPY and ATTACH cannot take as parameters.</summary>
    public static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
}
