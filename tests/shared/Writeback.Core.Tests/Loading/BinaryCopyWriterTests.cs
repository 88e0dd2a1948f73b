using System.Numerics;
using Npgsql;
using NpgsqlTypes;
using Writeback.Core.Loading;
using Writeback.Testing;

namespace Writeback.Core.Tests.Loading;

/// <summary>
/// The load engine writes binary COPY itself. PostgreSQL is the judge: the same values go into one table through
/// <see cref="BinaryCopyWriter"/> and into another through Npgsql's binary importer, which the engine used before, and
/// every stored row must read back the same, edges of every type included.
/// </summary>
public sealed class BinaryCopyWriterTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private const string Columns =
        "k integer, c_smallint smallint, c_integer integer, c_bigint bigint, c_real real, c_double double precision, c_boolean boolean, " +
        "c_text text, c_varchar varchar(400000), c_date date, c_timestamp timestamp, c_timestamptz timestamptz, c_uuid uuid, c_jsonb jsonb, " +
        "c_bytea bytea, c_numeric numeric";

    private const string ColumnNames =
        "k, c_smallint, c_integer, c_bigint, c_real, c_double, c_boolean, c_text, c_varchar, c_date, c_timestamp, c_timestamptz, c_uuid, c_jsonb, c_bytea, c_numeric";

    private const int RandomRows = 20_000;

    [Fact]
    public async Task Every_value_it_writes_is_stored_exactly_as_npgsqls_importer_stores_it()
    {
        var rows = Rows();
        await using var connection = await database.OpenAsync();
        await ExecuteAsync(connection, $"CREATE TEMP TABLE ours ({Columns}); CREATE TEMP TABLE theirs ({Columns})");

        await using (var copy = await connection.BeginRawBinaryCopyAsync($"COPY ours ({ColumnNames}) FROM STDIN (FORMAT BINARY)"))
        {
            var writer = new BinaryCopyWriter(copy);
            foreach (var row in rows)
            {
                Write(writer, row);
            }

            await writer.CompleteAsync(CancellationToken.None);
        }

        await using (var importer = await connection.BeginBinaryImportAsync($"COPY theirs ({ColumnNames}) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows)
            {
                await WriteAsync(importer, row);
            }

            await importer.CompleteAsync();
        }

        Assert.Equal(rows.Count, await ScalarAsync(connection, "SELECT count(*) FROM ours"));
        Assert.Equal(rows.Count, await ScalarAsync(connection, "SELECT count(*) FROM theirs"));
        Assert.Equal(0, await ScalarAsync(connection,
            "SELECT count(*) FROM (SELECT k, o::text AS v FROM ours o) a FULL JOIN (SELECT k, t::text AS v FROM theirs t) b USING (k) WHERE a.v IS DISTINCT FROM b.v"));
        // The comparison is only as good as the edges it saw: infinities, values far past the buffer, the widest numeric System.Decimal holds.
        Assert.Equal(2, await ScalarAsync(connection, "SELECT count(*) FROM ours WHERE c_date IN ('infinity', '-infinity') AND c_timestamp IN ('infinity', '-infinity')"));
        Assert.Equal(1, await ScalarAsync(connection, "SELECT count(*) FROM ours WHERE length(c_text) > 300000 AND length(c_bytea) > 200000"));
        Assert.Equal(1, await ScalarAsync(connection, "SELECT count(*) FROM ours WHERE c_numeric = 79228162514264337593543950335"));
    }

    [Fact]
    public async Task A_copy_with_no_rows_is_a_valid_empty_copy()
    {
        await using var connection = await database.OpenAsync();
        await ExecuteAsync(connection, "CREATE TEMP TABLE empty_copy (k integer)");

        await using (var copy = await connection.BeginRawBinaryCopyAsync("COPY empty_copy (k) FROM STDIN (FORMAT BINARY)"))
        {
            await new BinaryCopyWriter(copy).CompleteAsync(CancellationToken.None);
        }

        Assert.Equal(0, await ScalarAsync(connection, "SELECT count(*) FROM empty_copy"));
    }

    private sealed record Row(
        int K, short? Smallint, int? Integer, long? Bigint, float? Real, double? Double, bool? Boolean, string? Text, string? Varchar,
        DateOnly? Date, DateTime? Timestamp, DateTime? Timestamptz, Guid? Uuid, string? Jsonb, byte[]? Bytea, (BigInteger Unscaled, int Scale)? Numeric);

    private static List<Row> Rows()
    {
        var rows = new List<Row>
        {
            new(0, short.MinValue, int.MinValue, long.MinValue, float.NaN, double.NegativeInfinity, false, "", "", DateOnly.MinValue, DateTime.MinValue,
                DateTime.MinValue, Guid.Empty, "[]", [], (BigInteger.Zero, 3)),
            new(1, short.MaxValue, int.MaxValue, long.MaxValue, float.PositiveInfinity, -0.0, true, "😀 é 世界", "\"quoted\" \\ \n\t", DateOnly.MaxValue,
                DateTime.MaxValue, DateTime.MaxValue, Guid.Parse("6f1c2b9e-8a57-4c1e-9a43-2b1d6a3e5f70"), """{"b": null, "a": [1, 2.50, "😀"]}""", [0, 1, 255],
                ((BigInteger.One << 96) - 1, 0)),
            new(2, -1, 0, 1, float.Epsilon, double.MaxValue, null, new string('x', 300_001), new string('ü', 5), new DateOnly(1999, 12, 31),
                new DateTime(1999, 12, 31, 23, 59, 59).AddTicks(9_999_995), new DateTime(2000, 1, 1).AddTicks(5), null, "\"😀\"",
                [.. Enumerable.Range(0, 200_001).Select(i => (byte)i)], (-BigInteger.One, 28)),
            new(3, null, null, null, null, null, null, null, null, new DateOnly(2000, 1, 1), new DateTime(1, 1, 1).AddTicks(17), null, null, null, null, (1, 4)),
            new(4, null, null, null, null, null, null, null, null, new DateOnly(1, 1, 2), null, null, null, null, null, (10_000, 0)),
            new(5, null, null, null, null, null, null, null, null, null, null, null, null, null, null, (-99_999_999, 4)),
            new(6, null, null, null, null, null, null, null, null, null, null, null, null, null, null, (BigInteger.Parse("79228162514264337593543950335", System.Globalization.CultureInfo.InvariantCulture), 28)),
            new(7, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null),
        };

        var random = new Random(20261202);
        for (var k = rows.Count; k < RandomRows; k++)
        {
            bool Present() => random.Next(10) != 0;
            var ticks = random.NextInt64(DateTime.MinValue.Ticks + 1, DateTime.MaxValue.Ticks);
            rows.Add(new Row(
                k,
                Present() ? (short)random.Next(short.MinValue, short.MaxValue) : null,
                Present() ? random.Next(int.MinValue, int.MaxValue) : null,
                Present() ? random.NextInt64(long.MinValue, long.MaxValue) : null,
                Present() ? (float)((random.NextDouble() - 0.5) * 1e6) : null,
                Present() ? (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-300, 300)) : null,
                Present() ? random.Next(2) == 0 : null,
                Present() ? RandomText(random) : null,
                Present() ? RandomText(random) : null,
                Present() ? DateOnly.FromDayNumber(random.Next(DateOnly.MinValue.DayNumber + 1, DateOnly.MaxValue.DayNumber)) : null,
                Present() ? new DateTime(ticks) : null,
                Present() ? new DateTime(ticks, DateTimeKind.Utc) : null,
                Present() ? Guid.NewGuid() : null,
                Present() ? $$"""{"n": {{random.Next()}}, "s": "{{RandomText(random)}}"}""" : null,
                Present() ? [.. Enumerable.Range(0, random.Next(0, 40)).Select(_ => (byte)random.Next(256))] : null,
                Present() ? (new BigInteger(random.NextInt64(long.MinValue, long.MaxValue)) * random.Next(1, int.MaxValue), random.Next(0, 29)) : null));
        }

        return rows;
    }

    // Letters, digits and characters of one to four UTF-8 bytes; no JSON escapes so the text can sit in a JSON string.
    private static string RandomText(Random random)
    {
        string[] pieces = ["a", "Z", "7", " ", "é", "ß", "世", "界", "😀", "𝄞"];
        return string.Concat(Enumerable.Range(0, random.Next(0, 30)).Select(_ => pieces[random.Next(pieces.Length)]));
    }

    private static void Write(BinaryCopyWriter writer, Row row)
    {
        writer.StartRow(16);
        writer.Int4(row.K);
        Optional(writer, row.Smallint, writer.Smallint);
        Optional(writer, row.Integer, writer.Int4);
        Optional(writer, row.Bigint, writer.Bigint);
        Optional(writer, row.Real, writer.Real);
        Optional(writer, row.Double, writer.DoublePrecision);
        Optional(writer, row.Boolean, writer.Boolean);
        Optional(writer, row.Text, writer.Text);
        Optional(writer, row.Varchar, writer.Text);
        Optional(writer, row.Date, writer.Date);
        Optional(writer, row.Timestamp, writer.Timestamp);
        Optional(writer, row.Timestamptz, writer.Timestamp);
        Optional(writer, row.Uuid, writer.Uuid);
        Optional(writer, row.Jsonb, writer.Jsonb);
        Optional(writer, row.Bytea, v => writer.Bytes(v));
        Optional(writer, row.Numeric, v => writer.Numeric(v.Unscaled, v.Scale));
    }

    private static void Optional<T>(BinaryCopyWriter writer, T? value, Action<T> write)
        where T : struct
    {
        if (value is { } present)
        {
            write(present);
        }
        else
        {
            writer.Null();
        }
    }

    private static void Optional<T>(BinaryCopyWriter writer, T? value, Action<T> write)
        where T : class
    {
        if (value is not null)
        {
            write(value);
        }
        else
        {
            writer.Null();
        }
    }

    private static async Task WriteAsync(NpgsqlBinaryImporter importer, Row row)
    {
        await importer.StartRowAsync();
        await importer.WriteAsync(row.K, NpgsqlDbType.Integer);
        await importer.WriteAsync(row.Smallint, NpgsqlDbType.Smallint);
        await importer.WriteAsync(row.Integer, NpgsqlDbType.Integer);
        await importer.WriteAsync(row.Bigint, NpgsqlDbType.Bigint);
        await importer.WriteAsync(row.Real, NpgsqlDbType.Real);
        await importer.WriteAsync(row.Double, NpgsqlDbType.Double);
        await importer.WriteAsync(row.Boolean, NpgsqlDbType.Boolean);
        await importer.WriteAsync(row.Text, NpgsqlDbType.Text);
        await importer.WriteAsync(row.Varchar, NpgsqlDbType.Varchar);
        await importer.WriteAsync(row.Date, NpgsqlDbType.Date);
        await importer.WriteAsync(row.Timestamp is { } local ? DateTime.SpecifyKind(local, DateTimeKind.Unspecified) : (DateTime?)null, NpgsqlDbType.Timestamp);
        await importer.WriteAsync(row.Timestamptz is { } utc ? DateTime.SpecifyKind(utc, DateTimeKind.Utc) : (DateTime?)null, NpgsqlDbType.TimestampTz);
        await importer.WriteAsync(row.Uuid, NpgsqlDbType.Uuid);
        await importer.WriteAsync(row.Jsonb, NpgsqlDbType.Jsonb);
        await importer.WriteAsync(row.Bytea, NpgsqlDbType.Bytea);
        await importer.WriteAsync(row.Numeric is { } n ? ToDecimal(n.Unscaled, n.Scale) : (decimal?)null, NpgsqlDbType.Numeric);
    }

    private static decimal ToDecimal(BigInteger unscaled, int scale)
    {
        var magnitude = BigInteger.Abs(unscaled);
        return new decimal((int)(uint)(magnitude & uint.MaxValue), (int)(uint)((magnitude >> 32) & uint.MaxValue), (int)(uint)((magnitude >> 64) & uint.MaxValue), unscaled.Sign < 0, (byte)scale);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
