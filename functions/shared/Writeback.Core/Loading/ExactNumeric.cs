using System.Numerics;
using Npgsql;
using Npgsql.Internal;
using Npgsql.Internal.Postgres;

// Npgsql marks its converter API experimental (NPG9001); it is the API Npgsql's own plugins (NodaTime, GeoJSON) map
// types with, and the only way to write a numeric wider than System.Decimal.
#pragma warning disable NPG9001

namespace Writeback.Core.Loading;

/// <summary>
/// A PostgreSQL numeric in its binary wire form (base-10000 digits, weight, sign, display scale), built exactly from an
/// unscaled integer and a scale. It exists because System.Decimal holds 28-29 digits: BigQuery NUMERIC arrives as
/// DECIMAL(38,9) and BIGNUMERIC wider, and going through decimal would overflow or round.
/// </summary>
public readonly struct ExactNumeric
{
    private const int Base = 10_000;
    private const ushort Negative = 0x4000;

    private ExactNumeric(short[] digits, short weight, ushort sign, short displayScale)
    {
        Digits = digits;
        Weight = weight;
        Sign = sign;
        DisplayScale = displayScale;
    }

    public short[] Digits { get; }

    public short Weight { get; }

    public ushort Sign { get; }

    public short DisplayScale { get; }

    /// <summary>Bytes on the wire: four int16 headers, then one int16 per digit.</summary>
    public int ByteCount => 8 + (2 * Digits.Length);

    /// <summary>The value <paramref name="unscaled"/> × 10^-<paramref name="scale"/>, digit for digit.</summary>
    public static ExactNumeric From(BigInteger unscaled, int scale)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(scale);
        var sign = unscaled.Sign < 0 ? Negative : (ushort)0;
        if (unscaled.IsZero)
        {
            return new ExactNumeric([], 0, 0, checked((short)scale));
        }

        // Pad the fraction to whole base-10000 groups so the decimal point falls between two digits.
        var pad = (4 - (scale % 4)) % 4;
        var magnitude = BigInteger.Abs(unscaled) * BigInteger.Pow(10, pad);
        var fractionGroups = (scale + pad) / 4;
        var groups = new List<short>();
        while (!magnitude.IsZero)
        {
            magnitude = BigInteger.DivRem(magnitude, Base, out var group);
            groups.Add((short)group);
        }

        groups.Reverse();
        var weight = checked((short)(groups.Count - 1 - fractionGroups));
        // Trailing zero groups carry nothing (the display scale keeps the zeros); PostgreSQL strips them too.
        var length = groups.Count;
        while (length > 0 && groups[length - 1] == 0)
        {
            length--;
        }

        return new ExactNumeric([.. groups.Take(length)], weight, sign, checked((short)scale));
    }
}

/// <summary>Writes <see cref="ExactNumeric"/> as numeric (binary format only; the loader never reads one back).</summary>
internal sealed class ExactNumericConverter : PgBufferedConverter<ExactNumeric>
{
    /// <summary>numeric(1000, s), the widest a contract may declare: 250 groups before the point, 250 after, and headers.</summary>
    private const int MaxByteCount = 8 + (2 * 502);

    public override bool CanConvert(DataFormat format, out BufferRequirements bufferRequirements)
    {
        bufferRequirements = BufferRequirements.Create(Size.CreateUpperBound(MaxByteCount));
        return format is DataFormat.Binary;
    }

    public override Size GetSize(SizeContext context, ExactNumeric value, ref object? writeState) => value.ByteCount;

    protected override ExactNumeric ReadCore(PgReader reader) =>
        throw new NotSupportedException("ExactNumeric is written by the shard loader and never read.");

    protected override void WriteCore(PgWriter writer, ExactNumeric value)
    {
        writer.WriteInt16((short)value.Digits.Length);
        writer.WriteInt16(value.Weight);
        writer.WriteUInt16(value.Sign);
        writer.WriteInt16(value.DisplayScale);
        foreach (var digit in value.Digits)
        {
            writer.WriteInt16(digit);
        }
    }
}

/// <summary>Maps <see cref="ExactNumeric"/> to PostgreSQL numeric for data sources built by <see cref="LoaderDataSource"/>.</summary>
internal sealed class ExactNumericResolverFactory : PgTypeInfoResolverFactory
{
    public override IPgTypeInfoResolver CreateResolver() => new Resolver();

    public override IPgTypeInfoResolver? CreateArrayResolver() => null;

    private sealed class Resolver : IPgTypeInfoResolver
    {
        private readonly TypeInfoMappingCollection _mappings = new();

        public Resolver() =>
            _mappings.AddStructType<ExactNumeric>("pg_catalog.numeric", static (options, mapping, _) => mapping.CreateInfo(options, new ExactNumericConverter()));

        public PgTypeInfo? GetTypeInfo(Type? type, DataTypeName? dataTypeName, PgSerializerOptions options) =>
            _mappings.Find(type, dataTypeName, options);
    }
}

/// <summary>The data source the load engine needs: the given connection string, plus exact writes of wide numerics.</summary>
public static class LoaderDataSource
{
    public static NpgsqlDataSource Create(string connectionString, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        configure?.Invoke(builder.ConnectionStringBuilder);
        builder.AddTypeInfoResolverFactory(new ExactNumericResolverFactory());
        return builder.Build();
    }
}
