using System.Globalization;
using System.Numerics;
using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Loading.Columns;

internal sealed class IntegerLoader<T>(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
    where T : struct, IBinaryInteger<T>
{
    private readonly ValueBuffer<T> _values = new();

    /// <summary>Any Parquet integer fills an integer or numeric column; the range is checked per value.</summary>
    public static ColumnLoader? For(ResolvedColumn column, DataField field, string describe) =>
        column.Type.Kind is ColumnKind.Smallint or ColumnKind.Integer or ColumnKind.Bigint or ColumnKind.Numeric ? new IntegerLoader<T>(column, field, describe) : null;

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

    public override void Write(BinaryCopyWriter writer, int row)
    {
        if (!_values.TryGet(row, out var value))
        {
            writer.Null();
            return;
        }

        var wide = Int128.CreateTruncating(value);
        switch (Column.Type.Kind)
        {
            case ColumnKind.Smallint:
                writer.Smallint((short)wide);
                break;
            case ColumnKind.Integer:
                writer.Int4((int)wide);
                break;
            case ColumnKind.Bigint:
                writer.Bigint((long)wide);
                break;
            default:
                writer.Numeric((BigInteger)wide, 0);
                break;
        }
    }
}
