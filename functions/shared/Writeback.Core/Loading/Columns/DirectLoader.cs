using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Loading.Columns;

/// <summary>A column whose Parquet values need no conversion or check beyond null-ness: written as they are read.</summary>
internal sealed class DirectLoader<T>(ResolvedColumn column, DataField field, string describe, Action<BinaryCopyWriter, T> write) : ColumnLoader(column, field, describe)
    where T : struct
{
    private readonly ValueBuffer<T> _values = new();

    /// <summary>The loader when the contract column is of <paramref name="kind"/>, the one type these values fill.</summary>
    public static ColumnLoader? For(ResolvedColumn column, DataField field, string describe, ColumnKind kind, Action<BinaryCopyWriter, T> write) =>
        column.Type.Kind == kind ? new DirectLoader<T>(column, field, describe, write) : null;

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        _values.ReadAsync(rowGroup, Field, rows, cancellationToken);

    public override ValueProblem? Check(int row) => _values.TryGet(row, out _) ? null : NullProblem();

    public override void Write(BinaryCopyWriter writer, int row)
    {
        if (!_values.TryGet(row, out var value))
        {
            writer.Null();
        }
        else
        {
            write(writer, value);
        }
    }
}
