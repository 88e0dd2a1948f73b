using Npgsql;

namespace Writeback.Core.Sql;

/// <summary>
/// SQLSTATE classes by name. Npgsql's <see cref="PostgresErrorCodes"/> names every code; a class is named by its
/// class-level code (<see cref="PostgresErrorCodes.DataException"/>, 22000, for class 22), and a code belongs to it when
/// its first two characters match.
/// </summary>
internal static class SqlStates
{
    public static bool InClass(string sqlState, string classCode) =>
        sqlState.Length >= 2 && string.CompareOrdinal(sqlState, 0, classCode, 0, 2) == 0;
}
