using System.Globalization;
using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Loading.Columns;

internal sealed class StringLoader(ResolvedColumn column, DataField field, string describe) : ColumnLoader(column, field, describe)
{
    private string?[]? _values;

    /// <summary>A Parquet string fills a text, varchar, jsonb or uuid column; length, JSON and uuid are checked per value.</summary>
    public static ColumnLoader? For(ResolvedColumn column, DataField field, string describe) =>
        column.Type.Kind is ColumnKind.Text or ColumnKind.Varchar or ColumnKind.Jsonb or ColumnKind.Uuid ? new StringLoader(column, field, describe) : null;

    public override ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken) =>
        rowGroup.ReadAsync(Field, Ensure(ref _values, rows).AsMemory(0, rows), null, cancellationToken);

    public override ValueProblem? Check(int row)
    {
        var value = _values![row];
        if (value is null)
        {
            return NullProblem();
        }

        // The messages name no text (it may be long or personal); a target that keeps rejected values keeps it.
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            return new ValueProblem("text contains a NUL character, which PostgreSQL cannot store", value.Replace("\0", "\\0", StringComparison.Ordinal));
        }

        return Column.Type.Kind switch
        {
            // PostgreSQL counts characters (code points); UTF-16 length is an upper bound, so count only when needed.
            ColumnKind.Varchar when Column.Type.Length > 0 && value.Length > Column.Type.Length && CountCodePoints(value) > Column.Type.Length =>
                new ValueProblem($"value is {CountCodePoints(value)} characters, longer than varchar({Column.Type.Length})", value),
            ColumnKind.Jsonb when !IsJson(value) => new ValueProblem("value is not valid JSON", value),
            ColumnKind.Uuid when !Guid.TryParse(value, CultureInfo.InvariantCulture, out _) => new ValueProblem("value is not a uuid", value),
            _ => null,
        };
    }

    public override void Write(BinaryCopyWriter writer, int row)
    {
        var value = _values![row];
        if (value is null)
        {
            writer.Null();
            return;
        }

        switch (Column.Type.Kind)
        {
            case ColumnKind.Varchar:
                writer.Text(value);
                break;
            case ColumnKind.Jsonb:
                writer.Jsonb(value);
                break;
            case ColumnKind.Uuid:
                writer.Uuid(Guid.Parse(value, CultureInfo.InvariantCulture));
                break;
            default:
                writer.Text(value);
                break;
        }
    }

    private static int CountCodePoints(string value)
    {
        var count = 0;
        foreach (var _ in value.EnumerateRunes())
        {
            count++;
        }

        return count;
    }

    private static bool IsJson(string value)
    {
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(value));
            while (reader.Read())
            {
            }

            return reader.BytesConsumed > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
