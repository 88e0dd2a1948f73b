using System.Globalization;
using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Loading.Columns;

/// <summary>
/// Why a value cannot go into its column. <see cref="Reason"/> names no value (it is what the rejects table keeps);
/// <see cref="Value"/> is the offending value where showing it helps, and <see cref="Text"/> the message with it.
/// </summary>
internal sealed record ValueProblem(string Reason, string? Value = null, string? WithValue = null)
{
    public static ValueProblem NotNull { get; } = new("null in a column declared not null");

    /// <summary>The message of an all-or-nothing failure, as it always read: a number is named, a text is not.</summary>
    public string Text => WithValue ?? Reason;
}

/// <summary>
/// Reads one Parquet column of a row group and writes its values to a binary COPY, converting to the contract's
/// type. Every value is checked before any of its row is written, so a row the column cannot hold is either an error
/// that names column and row or, under the target's rejected-rows policy, a row left out whole.
/// </summary>
internal abstract class ColumnLoader(ResolvedColumn column, DataField field, string describe)
{
    public ResolvedColumn Column { get; } = column;

    protected DataField Field { get; } = field;

    public abstract ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken);

    /// <summary>What is wrong with value <paramref name="row"/> of the current row group, or null when it can be written.</summary>
    public abstract ValueProblem? Check(int row);

    /// <summary>Writes value <paramref name="row"/> of the current row group, which <see cref="Check"/> passed.</summary>
    public abstract void Write(BinaryCopyWriter writer, int row);

    protected ValueProblem? NullProblem() => Column.Nullable ? null : ValueProblem.NotNull;

    internal InvalidBatchException Fail(long shardRow, ValueProblem problem) =>
        new($"{describe}, column '{Column.Name}', row {shardRow + 1}: {problem.Text} (contract type {Column.Type}).");

    protected static T[] Ensure<T>(ref T[]? buffer, int rows)
    {
        if (buffer is null || buffer.Length < rows)
        {
            buffer = new T[rows];
        }

        return buffer;
    }

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
