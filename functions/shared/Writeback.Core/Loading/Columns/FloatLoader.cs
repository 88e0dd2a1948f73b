using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Loading.Columns;

internal sealed class FloatLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private readonly ValueBuffer<float> _values = new();

    public static ColumnLoader? For(ResolvedColumn column, DataField field, string describe) =>
        column.Type.Kind is ColumnKind.Real or ColumnKind.DoublePrecision ? new FloatLoader(column, field, describe) : null;

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        _values.ReadAsync(rowGroup, Field, rows, cancellationToken);

    public override ValueProblem? Check(int row) => _values.TryGet(row, out _) ? null : NullProblem();

    public override void Write(BinaryCopyWriter writer, int row)
    {
        if (!_values.TryGet(row, out var value))
        {
            writer.Null();
        }
        else if (Column.Type.Kind == ColumnKind.Real)
        {
            writer.Real(value);
        }
        else
        {
            writer.DoublePrecision(value);
        }
    }
}
