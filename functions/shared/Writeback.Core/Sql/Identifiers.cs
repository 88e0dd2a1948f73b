namespace Writeback.Core.Sql;

/// <summary>Identifiers reach SQL text only through here, and only after the target contract has validated them.</summary>
public static class Identifiers
{
    /// <summary>Double-quotes an identifier, doubling embedded quotes.</summary>
    public static string Quote(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        return "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
