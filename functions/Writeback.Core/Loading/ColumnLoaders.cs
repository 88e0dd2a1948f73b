using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Parquet;
using Parquet.Data;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Loading;

/// <summary>
/// Why a value cannot go into its column. <see cref="Reason"/> names no value (it is what the rejects table keeps);
/// <see cref="Value"/> is the offending value where showing it helps, and <see cref="Text"/> the message with it.
/// </summary>
internal sealed record ValueProblem(string Reason, string? Value = null, string? WithValue = null)
{
    public static ValueProblem NotNull { get; } = new("null in a column declared not null");

    /// <summary>The message of an all-or-nothing failure, as it always read: a number is named, a text is not.</summary>
    public string Text => WithValue ?? Reason;
}

/// <summary>
/// Reads one Parquet column of a row group and writes its values to a binary COPY, converting to the contract's
/// type. Every value is checked before any of its row is written, so a row the column cannot hold is either an error
/// that names column and row or, under the target's rejected-rows policy, a row left out whole.
/// </summary>
internal abstract class ColumnLoader(ResolvedColumn column, DataField field, string describe)
{
    public ResolvedColumn Column { get; } = column;

    protected DataField Field { get; } = field;

    public abstract ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken);

    /// <summary>What is wrong with value <paramref name="row"/> of the current row group, or null when it can be written.</summary>
    public abstract ValueProblem? Check(int row);

    /// <summary>Writes value <paramref name="row"/> of the current row group, which <see cref="Check"/> passed.</summary>
    public abstract void Write(NpgsqlBinaryImporter importer, int row);

    protected ValueProblem? NullProblem() => Column.Nullable ? null : ValueProblem.NotNull;

    internal InvalidBatchException Fail(long shardRow, ValueProblem problem) =>
        new($"{describe}, column '{Column.Name}', row {shardRow + 1}: {problem.Text} (contract type {Column.Type}).");

    protected static T[] Ensure<T>(ref T[]? buffer, int rows)
    {
        if (buffer is null || buffer.Length < rows)
        {
            buffer = new T[rows];
        }

        return buffer;
    }

    /// <summary>Chooses the loader for a Parquet field and contract column, or null when the types cannot match.</summary>
    public static ColumnLoader? Create(ResolvedColumn column, DataField field, string describe)
    {
        var kind = column.Type.Kind;
        var clr = field.ClrType;
        if (clr == typeof(short))
        {
            return IsIntegerTarget(kind) ? new IntegerLoader<short>(column, field, describe) : null;
        }

        if (clr == typeof(int))
        {
            return IsIntegerTarget(kind) ? new IntegerLoader<int>(column, field, describe) : null;
        }

        if (clr == typeof(long))
        {
            return IsIntegerTarget(kind) ? new IntegerLoader<long>(column, field, describe) : null;
        }

        if (clr == typeof(sbyte))
        {
            return IsIntegerTarget(kind) ? new IntegerLoader<sbyte>(column, field, describe) : null;
        }

        if (clr == typeof(byte))
        {
            return IsIntegerTarget(kind) ? new IntegerLoader<byte>(column, field, describe) : null;
        }

        if (clr == typeof(ushort))
        {
            return IsIntegerTarget(kind) ? new IntegerLoader<ushort>(column, field, describe) : null;
        }

        if (clr == typeof(uint))
        {
            return IsIntegerTarget(kind) ? new IntegerLoader<uint>(column, field, describe) : null;
        }

        if (clr == typeof(ulong))
        {
            return IsIntegerTarget(kind) ? new IntegerLoader<ulong>(column, field, describe) : null;
        }

        // ShardCopier reads every Parquet DECIMAL as BigDecimal (unscaled integer + scale): System.Decimal cannot hold
        // BigQuery's NUMERIC (38 digits) or BIGNUMERIC.
        if (clr == typeof(BigDecimal))
        {
            return kind == ColumnKind.Numeric ? new NumericLoader(column, field, describe) : null;
        }

        if (clr == typeof(float))
        {
            return kind is ColumnKind.Real or ColumnKind.DoublePrecision ? new FloatLoader(column, field, describe) : null;
        }

        if (clr == typeof(double))
        {
            return kind == ColumnKind.DoublePrecision ? new DirectLoader<double>(column, field, describe, NpgsqlDbType.Double) : null;
        }

        if (clr == typeof(bool))
        {
            return kind == ColumnKind.Boolean ? new DirectLoader<bool>(column, field, describe, NpgsqlDbType.Boolean) : null;
        }

        if (clr == typeof(DateOnly))
        {
            return kind == ColumnKind.Date ? new DirectLoader<DateOnly>(column, field, describe, NpgsqlDbType.Date) : null;
        }

        if (clr == typeof(DateTime))
        {
            var adjusted = field is DateTimeDataField { IsAdjustedToUTC: true };
            var isDate = field is DateTimeDataField { DateTimeFormat: DateTimeFormat.Date };
            return kind switch
            {
                ColumnKind.Date when isDate => new DateTimeLoader(column, field, describe),
                ColumnKind.Timestamptz when adjusted && !isDate => new DateTimeLoader(column, field, describe),
                ColumnKind.Timestamp when !adjusted && !isDate => new DateTimeLoader(column, field, describe),
                _ => null,
            };
        }

        if (clr == typeof(Guid))
        {
            return kind == ColumnKind.Uuid ? new GuidLoader(column, field, describe) : null;
        }

        if (clr == typeof(string) || clr == typeof(ReadOnlyMemory<char>))
        {
            return kind is ColumnKind.Text or ColumnKind.Varchar or ColumnKind.Jsonb or ColumnKind.Uuid
                ? new StringLoader(column, field, describe)
                : null;
        }

        if (clr == typeof(byte[]) || clr == typeof(ReadOnlyMemory<byte>))
        {
            return kind == ColumnKind.Bytea ? new BytesLoader(column, field, describe) : null;
        }

        return null;
    }

    private static bool IsIntegerTarget(ColumnKind kind) => kind is ColumnKind.Smallint or ColumnKind.Integer or ColumnKind.Bigint or ColumnKind.Numeric;

    /// <summary>Describes a Parquet field's type for error messages.</summary>
    public static string DescribeField(DataField field)
    {
        ArgumentNullException.ThrowIfNull(field);
        var element = field.SchemaElement;
        var logical = element?.LogicalType is null ? null : field.ClrType.Name;
        return field switch
        {
            DecimalDataField d => string.Create(CultureInfo.InvariantCulture, $"Parquet DECIMAL({d.Precision},{d.Scale})"),
            DateTimeDataField t => $"Parquet {t.DateTimeFormat}{(t.IsAdjustedToUTC ? " (UTC-adjusted)" : string.Empty)}",
            _ => $"Parquet {element?.Type.ToString() ?? "?"} ({logical ?? field.ClrType.Name})",
        };
    }
}

internal sealed class IntegerLoader<T>(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
    where T : struct, IBinaryInteger<T>
{
    private readonly ValueBuffer<T> _values = new();

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        _values.ReadAsync(rowGroup, Field, rows, cancellationToken);

    public override ValueProblem? Check(int row)
    {
        if (!_values.TryGet(row, out var value))
        {
            return NullProblem();
        }

        var wide = Int128.CreateTruncating(value);
        var fits = Column.Type.Kind switch
        {
            ColumnKind.Smallint => wide >= short.MinValue && wide <= short.MaxValue,
            ColumnKind.Integer => wide >= int.MinValue && wide <= int.MaxValue,
            ColumnKind.Bigint => wide >= long.MinValue && wide <= long.MaxValue,
            _ => true,
        };
        if (!fits)
        {
            var text = wide.ToString(CultureInfo.InvariantCulture);
            return new ValueProblem("value is out of range", text, $"value {text} is out of range");
        }

        return Column.Type.Kind is ColumnKind.Smallint or ColumnKind.Integer or ColumnKind.Bigint ? null : NumericLoader.Check(Column.Type, (BigInteger)wide, 0);
    }

    public override void Write(NpgsqlBinaryImporter importer, int row)
    {
        if (!_values.TryGet(row, out var value))
        {
            importer.WriteNull();
            return;
        }

        var wide = Int128.CreateTruncating(value);
        switch (Column.Type.Kind)
        {
            case ColumnKind.Smallint:
                importer.Write((short)wide, NpgsqlDbType.Smallint);
                break;
            case ColumnKind.Integer:
                importer.Write((int)wide, NpgsqlDbType.Integer);
                break;
            case ColumnKind.Bigint:
                importer.Write((long)wide, NpgsqlDbType.Bigint);
                break;
            default:
                NumericLoader.Write(importer, (BigInteger)wide, 0);
                break;
        }
    }
}

internal sealed class NumericLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private static readonly BigInteger DecimalLimit = (BigInteger.One << 96) - 1;
    private static readonly BigInteger[] PowersOfTen = [.. Enumerable.Range(0, 78).Select(e => BigInteger.Pow(10, e))];

    private readonly ValueBuffer<BigDecimal> _values = new();

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        _values.ReadAsync(rowGroup, Field, rows, cancellationToken);

    // Checked per value even when the Parquet type seems narrow enough: a 16-byte DECIMAL(38,s) can carry 39 digits.
    public override ValueProblem? Check(int row) =>
        _values.TryGet(row, out var value) ? Check(Column.Type, value.UnscaledValue, value.Scale) : NullProblem();

    public override void Write(NpgsqlBinaryImporter importer, int row)
    {
        if (_values.TryGet(row, out var value))
        {
            Write(importer, value.UnscaledValue, value.Scale);
        }
        else
        {
            importer.WriteNull();
        }
    }

    /// <summary>
    /// Whether <paramref name="unscaled"/> × 10^-<paramref name="scale"/> fits a numeric column exactly. PostgreSQL would
    /// round a value with too many fractional digits to the column's scale without a word, so the check happens here,
    /// before the value is sent.
    /// </summary>
    internal static ValueProblem? Check(ColumnType type, BigInteger unscaled, int scale)
    {
        if (type.Precision > 0)
        {
            if (scale > type.Scale && !BigInteger.Remainder(unscaled, Pow10(scale - type.Scale)).IsZero)
            {
                var text = Format(unscaled, scale);
                return new ValueProblem($"value has more than {type.Scale} fractional digits and would be rounded", text, $"value {text} has more than {type.Scale} fractional digits and would be rounded");
            }

            var integerDigits = type.Precision - type.Scale;
            // |unscaled| / 10^scale >= 10^integerDigits, without the division.
            if (BigInteger.Abs(unscaled) >= Pow10(integerDigits + scale))
            {
                var text = Format(unscaled, scale);
                return new ValueProblem($"numeric overflow: value needs more than {integerDigits} integer digits", text, $"numeric overflow: value {text} needs more than {integerDigits} integer digits");
            }
        }

        return null;
    }

    /// <summary>Writes a value <see cref="Check(ColumnType, BigInteger, int)"/> passed, exactly.</summary>
    internal static void Write(NpgsqlBinaryImporter importer, BigInteger unscaled, int scale)
    {
        // Most values fit System.Decimal exactly (96-bit magnitude, scale up to 28): Npgsql's own converter writes them.
        if (scale <= 28 && BigInteger.Abs(unscaled) <= DecimalLimit)
        {
            importer.Write(ToDecimal(unscaled, scale), NpgsqlDbType.Numeric);
        }
        else
        {
            importer.Write(ExactNumeric.From(unscaled, scale), NpgsqlDbType.Numeric);
        }
    }

    private static decimal ToDecimal(BigInteger unscaled, int scale)
    {
        var magnitude = BigInteger.Abs(unscaled);
        var lo = (int)(uint)(magnitude & uint.MaxValue);
        var mid = (int)(uint)((magnitude >> 32) & uint.MaxValue);
        var hi = (int)(uint)((magnitude >> 64) & uint.MaxValue);
        return new decimal(lo, mid, hi, unscaled.Sign < 0, (byte)scale);
    }

    private static BigInteger Pow10(int exponent) => exponent < PowersOfTen.Length ? PowersOfTen[exponent] : BigInteger.Pow(10, exponent);

    /// <summary>The value in plain decimal notation, for error messages.</summary>
    internal static string Format(BigInteger unscaled, int scale)
    {
        var digits = BigInteger.Abs(unscaled).ToString(CultureInfo.InvariantCulture);
        if (scale > 0)
        {
            digits = digits.PadLeft(scale + 1, '0');
            digits = digits[..^scale] + "." + digits[^scale..];
        }

        return unscaled.Sign < 0 ? "-" + digits : digits;
    }
}

internal sealed class FloatLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private readonly ValueBuffer<float> _values = new();

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        _values.ReadAsync(rowGroup, Field, rows, cancellationToken);

    public override ValueProblem? Check(int row) => _values.TryGet(row, out _) ? null : NullProblem();

    public override void Write(NpgsqlBinaryImporter importer, int row)
    {
        if (!_values.TryGet(row, out var value))
        {
            importer.WriteNull();
        }
        else if (Column.Type.Kind == ColumnKind.Real)
        {
            importer.Write(value, NpgsqlDbType.Real);
        }
        else
        {
            importer.Write((double)value, NpgsqlDbType.Double);
        }
    }
}

/// <summary>A column whose Parquet values need no conversion or check beyond null-ness: written as they are read.</summary>
internal sealed class DirectLoader<T>(ResolvedColumn column, DataField field, string describe, NpgsqlDbType dbType) : ColumnLoader(column, field, describe)
    where T : struct
{
    private readonly ValueBuffer<T> _values = new();

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        _values.ReadAsync(rowGroup, Field, rows, cancellationToken);

    public override ValueProblem? Check(int row) => _values.TryGet(row, out _) ? null : NullProblem();

    public override void Write(NpgsqlBinaryImporter importer, int row)
    {
        if (!_values.TryGet(row, out var value))
        {
            importer.WriteNull();
        }
        else
        {
            importer.Write(value, dbType);
        }
    }
}

internal sealed class DateTimeLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private readonly ValueBuffer<DateTime> _values = new();

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        _values.ReadAsync(rowGroup, Field, rows, cancellationToken);

    public override ValueProblem? Check(int row) => _values.TryGet(row, out _) ? null : NullProblem();

    public override void Write(NpgsqlBinaryImporter importer, int row)
    {
        if (!_values.TryGet(row, out var value))
        {
            importer.WriteNull();
            return;
        }

        switch (Column.Type.Kind)
        {
            case ColumnKind.Timestamptz:
                importer.Write(DateTime.SpecifyKind(value, DateTimeKind.Utc), NpgsqlDbType.TimestampTz);
                break;
            case ColumnKind.Date:
                importer.Write(DateOnly.FromDateTime(value), NpgsqlDbType.Date);
                break;
            default:
                importer.Write(DateTime.SpecifyKind(value, DateTimeKind.Unspecified), NpgsqlDbType.Timestamp);
                break;
        }
    }
}

internal sealed class GuidLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private readonly ValueBuffer<Guid> _values = new();

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        _values.ReadAsync(rowGroup, Field, rows, cancellationToken);

    public override ValueProblem? Check(int row) => _values.TryGet(row, out _) ? null : NullProblem();

    public override void Write(NpgsqlBinaryImporter importer, int row)
    {
        if (!_values.TryGet(row, out var value))
        {
            importer.WriteNull();
        }
        else
        {
            importer.Write(value, NpgsqlDbType.Uuid);
        }
    }
}

internal sealed class StringLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private string?[]? _values;

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        rowGroup.ReadAsync(Field, Ensure(ref _values, rows).AsMemory(0, rows), null, cancellationToken);

    public override ValueProblem? Check(int row)
    {
        var value = _values![row];
        if (value is null)
        {
            return NullProblem();
        }

        // The messages name no text (it may be long or personal); a target that keeps rejected values keeps it.
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            return new ValueProblem("text contains a NUL character, which PostgreSQL cannot store", value.Replace("\0", "\\0", StringComparison.Ordinal));
        }

        return Column.Type.Kind switch
        {
            // PostgreSQL counts characters (code points); UTF-16 length is an upper bound, so count only when needed.
            ColumnKind.Varchar when Column.Type.Length > 0 && value.Length > Column.Type.Length && CountCodePoints(value) > Column.Type.Length =>
                new ValueProblem($"value is {CountCodePoints(value)} characters, longer than varchar({Column.Type.Length})", value),
            ColumnKind.Jsonb when !IsJson(value) => new ValueProblem("value is not valid JSON", value),
            ColumnKind.Uuid when !Guid.TryParse(value, CultureInfo.InvariantCulture, out _) => new ValueProblem("value is not a uuid", value),
            _ => null,
        };
    }

    public override void Write(NpgsqlBinaryImporter importer, int row)
    {
        var value = _values![row];
        if (value is null)
        {
            importer.WriteNull();
            return;
        }

        switch (Column.Type.Kind)
        {
            case ColumnKind.Varchar:
                importer.Write(value, NpgsqlDbType.Varchar);
                break;
            case ColumnKind.Jsonb:
                importer.Write(value, NpgsqlDbType.Jsonb);
                break;
            case ColumnKind.Uuid:
                importer.Write(Guid.Parse(value, CultureInfo.InvariantCulture), NpgsqlDbType.Uuid);
                break;
            default:
                importer.Write(value, NpgsqlDbType.Text);
                break;
        }
    }

    private static int CountCodePoints(string value)
    {
        var count = 0;
        foreach (var _ in value.EnumerateRunes())
        {
            count++;
        }

        return count;
    }

    private static bool IsJson(string value)
    {
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(value));
            while (reader.Read())
            {
            }

            return reader.BytesConsumed > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

internal sealed class BytesLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private byte[]?[]? _values;

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        rowGroup.ReadAsync(Field, Ensure(ref _values, rows).AsMemory(0, rows)!, null, cancellationToken);

    public override ValueProblem? Check(int row) => _values![row] is null ? NullProblem() : null;

    public override void Write(NpgsqlBinaryImporter importer, int row)
    {
        var value = _values![row];
        if (value is null)
        {
            importer.WriteNull();
        }
        else
        {
            importer.Write(value, NpgsqlDbType.Bytea);
        }
    }
}

/// <summary>
/// Values of one column of one row group. Required (non-nullable) Parquet columns are read through the
/// non-nullable API: reading them as nullable has returned spurious nulls under concurrent readers.
/// </summary>
internal sealed class ValueBuffer<T>
    where T : struct
{
    private T?[]? _nullable;
    private T[]? _required;
    private bool _isRequired;

    public async ValueTask ReadAsync(ParquetRowGroupReader rowGroup, DataField field, int rows, CancellationToken cancellationToken)
    {
        _isRequired = !field.IsNullable;
        if (_isRequired)
        {
            if (_required is null || _required.Length < rows)
            {
                _required = new T[rows];
            }

            await rowGroup.ReadAsync<T>(field, _required.AsMemory(0, rows), null, cancellationToken);
        }
        else
        {
            if (_nullable is null || _nullable.Length < rows)
            {
                _nullable = new T?[rows];
            }

            await rowGroup.ReadAsync<T>(field, _nullable.AsMemory(0, rows), null, cancellationToken);
        }
    }

    public bool TryGet(int row, out T value)
    {
        if (_isRequired)
        {
            value = _required![row];
            return true;
        }

        var item = _nullable![row];
        value = item.GetValueOrDefault();
        return item.HasValue;
    }
}
