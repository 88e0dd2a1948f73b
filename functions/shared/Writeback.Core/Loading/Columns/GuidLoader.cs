using Npgsql;
using NpgsqlTypes;
using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Loading.Columns;

internal sealed class GuidLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private readonly ValueBuffer<Guid> _values = new();

    public static ColumnLoader? For(ResolvedColumn column, DataField field, string describe) =>
        column.Type.Kind == ColumnKind.Uuid ? new GuidLoader(column, field, describe) : null;

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
