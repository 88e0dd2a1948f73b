using System.Collections.Frozen;
using Parquet.Data;
using Parquet.Schema;
using Writeback.Core.Contracts;

namespace Writeback.Core.Loading.Columns;

/// <summary>
/// Chooses a column's loader by the CLR type Parquet.Net reads the shard's field as; each loader says which contract
/// types it can fill (see its <c>For</c>). A type not in the table, or a contract type its loader cannot fill, is a
/// type mismatch.
/// </summary>
internal static class ColumnLoaders
{
    private delegate ColumnLoader? Factory(ResolvedColumn column, DataField field, string describe);

    private static readonly FrozenDictionary<Type, Factory> ByParquetType = new Dictionary<Type, Factory>
    {
        [typeof(sbyte)] = IntegerLoader<sbyte>.For,
        [typeof(byte)] = IntegerLoader<byte>.For,
        [typeof(short)] = IntegerLoader<short>.For,
        [typeof(ushort)] = IntegerLoader<ushort>.For,
        [typeof(int)] = IntegerLoader<int>.For,
        [typeof(uint)] = IntegerLoader<uint>.For,
        [typeof(long)] = IntegerLoader<long>.For,
        [typeof(ulong)] = IntegerLoader<ulong>.For,
        [typeof(BigDecimal)] = NumericLoader.For,
        [typeof(float)] = FloatLoader.For,
        [typeof(double)] = (c, f, d) => DirectLoader<double>.For(c, f, d, ColumnKind.DoublePrecision, static (w, v) => w.DoublePrecision(v)),
        [typeof(bool)] = (c, f, d) => DirectLoader<bool>.For(c, f, d, ColumnKind.Boolean, static (w, v) => w.Boolean(v)),
        [typeof(DateOnly)] = (c, f, d) => DirectLoader<DateOnly>.For(c, f, d, ColumnKind.Date, static (w, v) => w.Date(v)),
        [typeof(DateTime)] = DateTimeLoader.For,
        [typeof(Guid)] = (c, f, d) => DirectLoader<Guid>.For(c, f, d, ColumnKind.Uuid, static (w, v) => w.Uuid(v)),
        [typeof(string)] = StringLoader.For,
        [typeof(ReadOnlyMemory<char>)] = StringLoader.For,
        [typeof(byte[])] = BytesLoader.For,
        [typeof(ReadOnlyMemory<byte>)] = BytesLoader.For,
    }.ToFrozenDictionary();

    /// <summary>The loader for a Parquet field and contract column, or null when the types cannot match.</summary>
    public static ColumnLoader? For(ResolvedColumn column, DataField field, string describe)
    {
        ArgumentNullException.ThrowIfNull(field);
        return ByParquetType.TryGetValue(field.ClrType, out var factory) ? factory(column, field, describe) : null;
    }
}
