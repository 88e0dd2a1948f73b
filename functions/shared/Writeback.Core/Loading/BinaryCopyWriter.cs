using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Writeback.Core.Loading;

/// <summary>
/// Writes rows in PostgreSQL's binary COPY format (a signature, then per row a field count and per field a length and
/// the type's binary send form) into a buffer it hands to a raw COPY stream. It exists because Npgsql's importer binds
/// every value through its type resolution and an async state machine, which a trace of the load measured as half of
/// the writer's CPU; here a value is a few stores into a span.
/// </summary>
/// <remarks>Each encoding is the one PostgreSQL's <c>*_recv</c> function reads, and matches what Npgsql sends for the
/// same CLR value, infinities included, so moving off the importer changed no stored value.</remarks>
public sealed class BinaryCopyWriter(Stream stream)
{
    private const int FlushAt = 1 << 16;
    private const long TimestampEpochTicks = 630_822_816_000_000_000; // 2000-01-01T00:00:00, PostgreSQL's epoch
    private const int NumericBase = 10_000;
    private const ushort NumericNegative = 0x4000;

    private static readonly int DateEpochDay = new DateOnly(2000, 1, 1).DayNumber;
    private static readonly UInt128 FastNumericLimit = UInt128.MaxValue / 1000;
    private static readonly uint[] PadFactors = [1, 10, 100, 1000];

    private byte[] _buffer = new byte[FlushAt * 2];
    private int _length;
    private bool _started;

    /// <summary>Starts a row of <paramref name="fields"/> values, sending what is buffered when the buffer is full.</summary>
    public void StartRow(int fields)
    {
        if (!_started)
        {
            Header();
        }
        else if (_length >= FlushAt)
        {
            stream.Write(_buffer, 0, _length);
            _length = 0;
        }

        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), checked((short)fields));
    }

    /// <summary>Ends the data with the trailer and sends the rest; the COPY completes when its stream is disposed.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            Header();
        }

        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), -1);
        await stream.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken);
        _length = 0;
    }

    public void Null() => BinaryPrimitives.WriteInt32BigEndian(Reserve(4), -1);

    public void Boolean(bool value)
    {
        var span = Field(1);
        span[0] = value ? (byte)1 : (byte)0;
    }

    public void Smallint(short value) => BinaryPrimitives.WriteInt16BigEndian(Field(2), value);

    public void Int4(int value) => BinaryPrimitives.WriteInt32BigEndian(Field(4), value);

    public void Bigint(long value) => BinaryPrimitives.WriteInt64BigEndian(Field(8), value);

    public void Real(float value) => BinaryPrimitives.WriteSingleBigEndian(Field(4), value);

    public void DoublePrecision(double value) => BinaryPrimitives.WriteDoubleBigEndian(Field(8), value);

    /// <summary>Days from 2000-01-01; the first and last DateOnly stand for -infinity and infinity, as in Npgsql.</summary>
    public void Date(DateOnly value) =>
        Int4(value == DateOnly.MinValue ? int.MinValue : value == DateOnly.MaxValue ? int.MaxValue : value.DayNumber - DateEpochDay);

    /// <summary>
    /// Microseconds from 2000-01-01 (the Kind is the caller's business: timestamptz takes UTC, timestamp takes the
    /// wall clock). Sub-microsecond ticks are dropped, not rounded, so DateTime.MaxValue stays below the limit; the first
    /// and last DateTime stand for -infinity and infinity, as in Npgsql.
    /// </summary>
    public void Timestamp(DateTime value) =>
        Bigint(value == DateTime.MinValue ? long.MinValue : value == DateTime.MaxValue ? long.MaxValue : (value.Ticks - TimestampEpochTicks) / 10);

    public void Uuid(Guid value) => value.TryWriteBytes(Field(16), bigEndian: true, out _);

    /// <summary>text and varchar: the UTF-8 bytes.</summary>
    public void Text(string value) => Utf8(value, jsonbVersion: false);

    /// <summary>jsonb: a version byte (1), then the JSON text in UTF-8.</summary>
    public void Jsonb(string value) => Utf8(value, jsonbVersion: true);

    public void Bytes(ReadOnlySpan<byte> value) => value.CopyTo(Field(value.Length));

    /// <summary>
    /// The value <paramref name="unscaled"/> × 10^-<paramref name="scale"/> as a numeric, exactly: base-10000 digits
    /// with the decimal point between two of them, a weight (the power of 10000 of the first), a sign and the display
    /// scale. System.Decimal is not in the way: BigQuery's NUMERIC is 38 digits and BIGNUMERIC wider.
    /// </summary>
    public void Numeric(BigInteger unscaled, int scale)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(scale);
        var displayScale = checked((short)scale);
        if (unscaled.IsZero)
        {
            NumericHeader(Field(8), 0, 0, 0, displayScale);
            return;
        }

        // Pad the fraction to whole base-10000 groups so the decimal point falls between two digits.
        var pad = (4 - (scale % 4)) % 4;
        var fractionGroups = (scale + pad) / 4;
        var magnitude = BigInteger.Abs(unscaled);
        var sign = unscaled.Sign < 0 ? NumericNegative : (ushort)0;
        Span<short> small = stackalloc short[12];
        var groups = magnitude <= FastNumericLimit
            ? Groups((UInt128)magnitude * PadFactors[pad], small)
            : Groups(magnitude * BigInteger.Pow(10, pad));

        // Trailing zero groups carry nothing (the display scale keeps the zeros); PostgreSQL strips them too.
        var length = groups.Length;
        while (length > 0 && groups[length - 1] == 0)
        {
            length--;
        }

        var weight = checked((short)(groups.Length - 1 - fractionGroups));
        var span = Field(8 + (2 * length));
        NumericHeader(span, (short)length, weight, sign, displayScale);
        for (var i = 0; i < length; i++)
        {
            BinaryPrimitives.WriteInt16BigEndian(span[(8 + (2 * i))..], groups[i]);
        }
    }

    private static void NumericHeader(Span<byte> span, short digits, short weight, ushort sign, short displayScale)
    {
        BinaryPrimitives.WriteInt16BigEndian(span, digits);
        BinaryPrimitives.WriteInt16BigEndian(span[2..], weight);
        BinaryPrimitives.WriteUInt16BigEndian(span[4..], sign);
        BinaryPrimitives.WriteInt16BigEndian(span[6..], displayScale);
    }

    // Most significant group first. 2^128 has 39 digits: ten groups, in the caller's stack buffer.
    private static Span<short> Groups(UInt128 magnitude, Span<short> buffer)
    {
        var count = 0;
        for (var rest = magnitude; rest != 0; rest /= NumericBase)
        {
            buffer[count++] = (short)(ushort)(rest % NumericBase);
        }

        var groups = buffer[..count];
        groups.Reverse();
        return groups;
    }

    private static short[] Groups(BigInteger magnitude)
    {
        var groups = new List<short>();
        while (!magnitude.IsZero)
        {
            magnitude = BigInteger.DivRem(magnitude, NumericBase, out var group);
            groups.Add((short)group);
        }

        groups.Reverse();
        return [.. groups];
    }

    private void Utf8(string value, bool jsonbVersion)
    {
        var prefix = jsonbVersion ? 1 : 0;
        // A UTF-16 code unit is at most three UTF-8 bytes; the length is written once the bytes are.
        var span = Reserve(4 + prefix + (value.Length * 3));
        if (jsonbVersion)
        {
            span[4] = 1;
        }

        var written = Encoding.UTF8.GetBytes(value, span[(4 + prefix)..]);
        BinaryPrimitives.WriteInt32BigEndian(span, prefix + written);
        _length -= span.Length - (4 + prefix + written);
    }

    // A field: its length, then room for its bytes.
    private Span<byte> Field(int bytes)
    {
        var span = Reserve(4 + bytes);
        BinaryPrimitives.WriteInt32BigEndian(span, bytes);
        return span[4..];
    }

    private Span<byte> Reserve(int bytes)
    {
        if (_length + bytes > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + bytes));
        }

        var span = _buffer.AsSpan(_length, bytes);
        _length += bytes;
        return span;
    }

    private void Header()
    {
        // "PGCOPY\n\xff\r\n\0", then a flags word and a header-extension length, both zero.
        ReadOnlySpan<byte> header = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
        header.CopyTo(Reserve(header.Length));
        _started = true;
    }
}
