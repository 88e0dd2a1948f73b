using Parquet;
using Parquet.Schema;

namespace Writeback.Core.Loading.Columns;

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
