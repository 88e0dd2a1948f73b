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
/// Reads one Parquet column of a row group and writes its values to a binary COPY, converting to the contract's
/// type and rejecting anything the column cannot hold with an error that names column and row.
/// </summary>
internal abstract class ColumnLoader(ResolvedColumn column, DataField field, string describe)
{
    public ResolvedColumn Column { get; } = column;

    protected DataField Field { get; } = field;

    public abstract ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken);

    /// <summary>Writes value <paramref name="row"/> of the current row group; <paramref name="shardRow"/> is for messages.</summary>
    public abstract void Write(NpgsqlBinaryImporter importer, int row, long shardRow);

    protected void WriteNull(NpgsqlBinaryImporter importer, long shardRow)
    {
        if (!Column.Nullable)
        {
            throw Fail(shardRow, "null in a column declared not null");
        }

        importer.WriteNull();
    }

    internal InvalidBatchException Fail(long shardRow, string problem) =>
        new($"{describe}, column '{Column.Name}', row {shardRow + 1}: {problem} (contract type {Column.Type}).");

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

    public override void Write(NpgsqlBinaryImporter importer, int row, long shardRow)
    {
        if (!_values.TryGet(row, out var value))
        {
            WriteNull(importer, shardRow);
            return;
        }

        var wide = Int128.CreateTruncating(value);
        switch (Column.Type.Kind)
        {
            case ColumnKind.Smallint:
                importer.Write(wide >= short.MinValue && wide <= short.MaxValue ? (short)wide : throw Fail(shardRow, $"value {wide} is out of range"), NpgsqlDbType.Smallint);
                break;
            case ColumnKind.Integer:
                importer.Write(wide >= int.MinValue && wide <= int.MaxValue ? (int)wide : throw Fail(shardRow, $"value {wide} is out of range"), NpgsqlDbType.Integer);
                break;
            case ColumnKind.Bigint:
                importer.Write(wide >= long.MinValue && wide <= long.MaxValue ? (long)wide : throw Fail(shardRow, $"value {wide} is out of range"), NpgsqlDbType.Bigint);
                break;
            default:
                NumericLoader.Write(this, importer, (BigInteger)wide, 0, shardRow);
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

    public override void Write(NpgsqlBinaryImporter importer, int row, long shardRow)
    {
        if (!_values.TryGet(row, out var value))
        {
            WriteNull(importer, shardRow);
            return;
        }

        // Checked per value even when the Parquet type seems narrow enough: a 16-byte DECIMAL(38,s) can carry 39 digits.
        Write(this, importer, value.UnscaledValue, value.Scale, shardRow);
    }

    /// <summary>
    /// Writes <paramref name="unscaled"/> × 10^-<paramref name="scale"/> to a numeric column exactly, or fails naming the
    /// value. PostgreSQL would round a value with too many fractional digits to the column's scale without a word, so
    /// the check happens here, before the value is sent.
    /// </summary>
    internal static void Write(ColumnLoader loader, NpgsqlBinaryImporter importer, BigInteger unscaled, int scale, long shardRow)
    {
        var type = loader.Column.Type;
        if (type.Precision > 0)
        {
            if (scale > type.Scale && !BigInteger.Remainder(unscaled, Pow10(scale - type.Scale)).IsZero)
            {
                throw loader.Fail(shardRow, $"value {Format(unscaled, scale)} has more than {type.Scale} fractional digits and would be rounded");
            }

            var integerDigits = type.Precision - type.Scale;
            // |unscaled| / 10^scale >= 10^integerDigits, without the division.
            if (BigInteger.Abs(unscaled) >= Pow10(integerDigits + scale))
            {
                throw loader.Fail(shardRow, $"numeric overflow: value {Format(unscaled, scale)} needs more than {integerDigits} integer digits");
            }
        }

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

    public override void Write(NpgsqlBinaryImporter importer, int row, long shardRow)
    {
        if (!_values.TryGet(row, out var value))
        {
            WriteNull(importer, shardRow);
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

    public override void Write(NpgsqlBinaryImporter importer, int row, long shardRow)
    {
        if (!_values.TryGet(row, out var value))
        {
            WriteNull(importer, shardRow);
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

    public override void Write(NpgsqlBinaryImporter importer, int row, long shardRow)
    {
        if (!_values.TryGet(row, out var value))
        {
            WriteNull(importer, shardRow);
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

    public override void Write(NpgsqlBinaryImporter importer, int row, long shardRow)
    {
        if (!_values.TryGet(row, out var value))
        {
            WriteNull(importer, shardRow);
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

    public override void Write(NpgsqlBinaryImporter importer, int row, long shardRow)
    {
        var value = _values![row];
        if (value is null)
        {
            WriteNull(importer, shardRow);
            return;
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw Fail(shardRow, "text contains a NUL character, which PostgreSQL cannot store");
        }

        switch (Column.Type.Kind)
        {
            case ColumnKind.Varchar:
                // PostgreSQL counts characters (code points); UTF-16 length is an upper bound, so count only when needed.
                if (Column.Type.Length > 0 && value.Length > Column.Type.Length && CountCodePoints(value) > Column.Type.Length)
                {
                    throw Fail(shardRow, $"value is {CountCodePoints(value)} characters, longer than varchar({Column.Type.Length})");
                }

                importer.Write(value, NpgsqlDbType.Varchar);
                break;
            case ColumnKind.Jsonb:
                if (!IsJson(value))
                {
                    throw Fail(shardRow, "value is not valid JSON");
                }

                importer.Write(value, NpgsqlDbType.Jsonb);
                break;
            case ColumnKind.Uuid:
                importer.Write(Guid.TryParse(value, CultureInfo.InvariantCulture, out var uuid) ? uuid : throw Fail(shardRow, "value is not a uuid"), NpgsqlDbType.Uuid);
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

    public override void Write(NpgsqlBinaryImporter importer, int row, long shardRow)
    {
        var value = _values![row];
        if (value is null)
        {
            WriteNull(importer, shardRow);
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
