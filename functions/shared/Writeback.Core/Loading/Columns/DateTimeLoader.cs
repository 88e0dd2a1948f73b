using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Loading.Columns;

internal sealed class DateTimeLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private readonly ValueBuffer<DateTime> _values = new();

    /// <summary>A Parquet date fills a date column; a UTC-adjusted timestamp a timestamptz, a local one a timestamp.</summary>
    public static ColumnLoader? For(ResolvedColumn column, DataField field, string describe)
    {
        var adjusted = field is DateTimeDataField { IsAdjustedToUTC: true };
        var isDate = field is DateTimeDataField { DateTimeFormat: DateTimeFormat.Date };
        return column.Type.Kind switch
        {
            ColumnKind.Date when isDate => new DateTimeLoader(column, field, describe),
            ColumnKind.Timestamptz when adjusted && !isDate => new DateTimeLoader(column, field, describe),
            ColumnKind.Timestamp when !adjusted && !isDate => new DateTimeLoader(column, field, describe),
            _ => null,
        };
    }

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        _values.ReadAsync(rowGroup, Field, rows, cancellationToken);

    public override ValueProblem? Check(int row) => _values.TryGet(row, out _) ? null : NullProblem();

    public override void Write(BinaryCopyWriter writer, int row)
    {
        if (!_values.TryGet(row, out var value))
        {
            writer.Null();
            return;
        }

        // A timestamptz's value is UTC and a timestamp's the wall clock: either way the ticks are what is sent.
        if (Column.Type.Kind == ColumnKind.Date)
        {
            writer.Date(DateOnly.FromDateTime(value));
        }
        else
        {
            writer.Timestamp(value);
        }
    }
}
