using Npgsql;
using NpgsqlTypes;
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
