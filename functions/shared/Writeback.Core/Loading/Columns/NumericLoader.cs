using System.Globalization;
using System.Numerics;
using Parquet;
using Parquet.Data;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Loading.Columns;

internal sealed class NumericLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private static readonly BigInteger[] PowersOfTen = [.. Enumerable.Range(0, 78).Select(e => BigInteger.Pow(10, e))];

    private readonly ValueBuffer<BigDecimal> _values = new();

    /// <summary>
    /// ShardCopier reads every Parquet DECIMAL as BigDecimal (unscaled integer + scale): System.Decimal cannot hold
    /// BigQuery's NUMERIC (38 digits) or BIGNUMERIC.
    /// </summary>
    public static ColumnLoader? For(ResolvedColumn column, DataField field, string describe) =>
        column.Type.Kind == ColumnKind.Numeric ? new NumericLoader(column, field, describe) : null;

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        _values.ReadAsync(rowGroup, Field, rows, cancellationToken);

    // Checked per value even when the Parquet type seems narrow enough: a 16-byte DECIMAL(38,s) can carry 39 digits.
    public override ValueProblem? Check(int row) =>
        _values.TryGet(row, out var value) ? Check(Column.Type, value.UnscaledValue, value.Scale) : NullProblem();

    public override void Write(BinaryCopyWriter writer, int row)
    {
        if (_values.TryGet(row, out var value))
        {
            writer.Numeric(value.UnscaledValue, value.Scale);
        }
        else
        {
            writer.Null();
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
