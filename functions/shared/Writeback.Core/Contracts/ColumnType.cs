using System.Globalization;
using System.Text.RegularExpressions;

namespace Writeback.Core.Contracts;

/// <summary>The PostgreSQL types a target may declare; anything else is rejected when the contract is read.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The members are PostgreSQL type names.")]
public enum ColumnKind
{
    Smallint,
    Integer,
    Bigint,
    Numeric,
    Real,
    DoublePrecision,
    Boolean,
    Text,
    Varchar,
    Date,
    Timestamp,
    Timestamptz,
    Uuid,
    Jsonb,
    Bytea,
}

/// <summary>
/// A parsed column type. <see cref="Sql"/> is the canonical spelling, built from the parsed parts only, so the
/// type text that reaches DDL never comes verbatim from a file.
/// </summary>
public sealed partial record ColumnType(ColumnKind Kind, int Precision = 0, int Scale = 0, int Length = 0)
{
    public string Sql => Kind switch
    {
        ColumnKind.Smallint => "smallint",
        ColumnKind.Integer => "integer",
        ColumnKind.Bigint => "bigint",
        ColumnKind.Numeric => Precision == 0 ? "numeric" : string.Create(CultureInfo.InvariantCulture, $"numeric({Precision},{Scale})"),
        ColumnKind.Real => "real",
        ColumnKind.DoublePrecision => "double precision",
        ColumnKind.Boolean => "boolean",
        ColumnKind.Text => "text",
        ColumnKind.Varchar => Length == 0 ? "varchar" : string.Create(CultureInfo.InvariantCulture, $"varchar({Length})"),
        ColumnKind.Date => "date",
        ColumnKind.Timestamp => "timestamp",
        ColumnKind.Timestamptz => "timestamptz",
        ColumnKind.Uuid => "uuid",
        ColumnKind.Jsonb => "jsonb",
        ColumnKind.Bytea => "bytea",
        _ => throw new InvalidOperationException($"Unknown column kind {Kind}."),
    };

    /// <summary>The spelling PostgreSQL's <c>format_type</c> reports, to compare a contract with an existing table.</summary>
    public string CatalogSpelling => Kind switch
    {
        ColumnKind.Varchar => Length == 0 ? "character varying" : string.Create(CultureInfo.InvariantCulture, $"character varying({Length})"),
        ColumnKind.Timestamp => "timestamp without time zone",
        ColumnKind.Timestamptz => "timestamp with time zone",
        _ => Sql,
    };

    public override string ToString() => Sql;

    /// <summary>Parses a type in the contract's spelling (case-insensitive, common aliases accepted); null if unknown.</summary>
    public static ColumnType? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var t = WhiteSpace().Replace(text.Trim().ToLowerInvariant(), " ");
        t = t.Replace(" (", "(", StringComparison.Ordinal).Replace("( ", "(", StringComparison.Ordinal).Replace(", ", ",", StringComparison.Ordinal).Replace(" )", ")", StringComparison.Ordinal);
        switch (t)
        {
            case "smallint" or "int2": return new(ColumnKind.Smallint);
            case "integer" or "int" or "int4": return new(ColumnKind.Integer);
            case "bigint" or "int8": return new(ColumnKind.Bigint);
            case "numeric" or "decimal": return new(ColumnKind.Numeric);
            case "real" or "float4": return new(ColumnKind.Real);
            case "double precision" or "float8": return new(ColumnKind.DoublePrecision);
            case "boolean" or "bool": return new(ColumnKind.Boolean);
            case "text": return new(ColumnKind.Text);
            case "varchar" or "character varying": return new(ColumnKind.Varchar);
            case "date": return new(ColumnKind.Date);
            case "timestamp" or "timestamp without time zone": return new(ColumnKind.Timestamp);
            case "timestamptz" or "timestamp with time zone": return new(ColumnKind.Timestamptz);
            case "uuid": return new(ColumnKind.Uuid);
            case "jsonb": return new(ColumnKind.Jsonb);
            case "bytea": return new(ColumnKind.Bytea);
        }

        var numeric = NumericPattern().Match(t);
        if (numeric.Success)
        {
            var precision = int.Parse(numeric.Groups[1].Value, CultureInfo.InvariantCulture);
            var scale = numeric.Groups[2].Success ? int.Parse(numeric.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
            return precision is >= 1 and <= 1000 && scale >= 0 && scale <= precision ? new(ColumnKind.Numeric, precision, scale) : null;
        }

        var varchar = VarcharPattern().Match(t);
        if (varchar.Success)
        {
            var length = int.Parse(varchar.Groups[1].Value, CultureInfo.InvariantCulture);
            return length is >= 1 and <= 10_485_760 ? new(ColumnKind.Varchar, Length: length) : null;
        }

        return null;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();

    [GeneratedRegex(@"^(?:numeric|decimal)\((\d{1,4})(?:,(\d{1,4}))?\)$")]
    private static partial Regex NumericPattern();

    [GeneratedRegex(@"^(?:varchar|character varying)\((\d{1,8})\)$")]
    private static partial Regex VarcharPattern();
}
