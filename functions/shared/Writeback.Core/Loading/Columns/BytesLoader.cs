using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Loading.Columns;

internal sealed class BytesLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private byte[]?[]? _values;

    public static ColumnLoader? For(ResolvedColumn column, DataField field, string describe) =>
        column.Type.Kind == ColumnKind.Bytea ? new BytesLoader(column, field, describe) : null;

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        rowGroup.ReadAsync(Field, Ensure(ref _values, rows).AsMemory(0, rows)!, null, cancellationToken);

    public override ValueProblem? Check(int row) => _values![row] is null ? NullProblem() : null;

    public override void Write(BinaryCopyWriter writer, int row)
    {
        var value = _values![row];
        if (value is null)
        {
            writer.Null();
        }
        else
        {
            writer.Bytes(value);
        }
    }
}
