using System.Globalization;
using System.Numerics;
using Parquet.Data;
using Parquet.Schema;
using Writeback.Core.Contracts;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>
/// Numbers arrive as BigQuery writes them (NUMERIC as Parquet DECIMAL(38,9), BIGNUMERIC as DECIMAL(76,38)) and land
/// digit for digit, or the shard fails naming batch, shard, column and row: never rounded, never through System.Decimal.
/// </summary>
public sealed class NumericTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private static readonly string ThirtyEightNines = new('9', 38);

    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    private static Target NumberTarget(string table, string type) => new()
    {
        Version = 1,
        Dataset = table,
        Table = $"test.{table}",
        Columns = [new TargetColumn { Name = "k", Type = "integer", Nullable = false }, new TargetColumn { Name = "amount", Type = type, Nullable = true }],
        Key = ["k"],
        LoadMode = LoadMode.Upsert,
    };

    /// <summary>Decimal text such as "-123.450" as the unscaled integer of the given scale.</summary>
    private static BigDecimal? Value(string? text, int precision, int scale)
    {
        if (text is null)
        {
            return null;
        }

        var negative = text.StartsWith('-');
        var parts = text.TrimStart('-').Split('.');
        var fraction = (parts.Length > 1 ? parts[1] : "").PadRight(scale, '0');
        Assert.True(fraction.Length == scale, $"{text} has more than {scale} fractional digits");
        var unscaled = BigInteger.Parse(parts[0] + fraction, CultureInfo.InvariantCulture);
        return new BigDecimal(negative ? -unscaled : unscaled, precision, scale);
    }

    private async Task<string> LoadAsync(string table, string type, int precision, int scale, params string?[] values)
    {
        var target = NumberTarget(table, type);
        var engine = CreateEngine(database.ConnectionString, target);
        var shard = new ShardColumnData[]
        {
            new(new DataField<int>("k"), Enumerable.Range(1, values.Length).ToArray()),
            new(new BigDecimalDataField("amount", precision, scale, isNullable: true), values.Select(v => Value(v, precision, scale)).ToArray()),
        };
        var manifest = await _batches.WriteBatchAsync($"{table}-1", target.Dataset, [shard],
            [new ShardColumn { Name = "k", Type = "integer" }, new ShardColumn { Name = "amount", Type = type }]);
        await RunAsync(engine, manifest);
        return manifest;
    }

    private async Task<string?[]> ReadAsync(string table)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"SELECT amount::text FROM test.{table} ORDER BY k", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string?>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.IsDBNull(0) ? null : reader.GetString(0));
        }

        return [.. values];
    }

    [Fact]
    public async Task Bigquery_numeric_at_its_limits_loads_into_numeric_38_9_digit_for_digit()
    {
        string?[] values =
        [
            $"{ThirtyEightNines[..29]}.{ThirtyEightNines[..9]}",
            $"-{ThirtyEightNines[..29]}.{ThirtyEightNines[..9]}",
            "0.000000000",
            "0.000000001",
            "-0.000000001",
            "12345678901234567890123456789.123456789",
            "79228162514264337593543950335.000000001",
            "123.450000000",
            null,
        ];

        await LoadAsync("numeric_limits", "numeric(38,9)", 38, 9, values);

        Assert.Equal(values, await ReadAsync("numeric_limits"));
    }

    [Fact]
    public async Task A_value_one_past_the_columns_precision_fails_naming_batch_shard_column_and_row()
    {
        // DECIMAL(39,9) can carry 10^29, which numeric(38,9) cannot hold (29 integer digits at most).
        var error = await Record.ExceptionAsync(() => LoadAsync("numeric_overflow", "numeric(38,9)", 39, 9,
            "1.000000000", $"{ThirtyEightNines[..29]}.{ThirtyEightNines[..9]}", "100000000000000000000000000000.000000000"));

        var message = Assert.IsType<InvalidBatchException>(error).Message;
        Assert.Contains("batch 'numeric_overflow-1'", message, StringComparison.Ordinal);
        Assert.Contains("shard 0", message, StringComparison.Ordinal);
        Assert.Contains("column 'amount'", message, StringComparison.Ordinal);
        Assert.Contains("row 3", message, StringComparison.Ordinal);
        Assert.Contains("100000000000000000000000000000.000000000", message, StringComparison.Ordinal);
        Assert.Contains("numeric overflow", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_with_more_fractional_digits_than_the_column_fails_instead_of_being_rounded()
    {
        var error = await Record.ExceptionAsync(() => LoadAsync("numeric_rounding", "numeric(38,9)", 38, 10, "1.0000000000", "2.0000000001"));

        var message = Assert.IsType<InvalidBatchException>(error).Message;
        Assert.Contains("column 'amount', row 2", message, StringComparison.Ordinal);
        Assert.Contains("2.0000000001 has more than 9 fractional digits", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trailing_zeros_beyond_the_columns_scale_are_not_a_loss_and_load()
    {
        await LoadAsync("numeric_trailing", "numeric(38,9)", 38, 10, "1.5000000000", "-0.0000000010");

        Assert.Equal(new string?[] { "1.500000000", "-0.000000001" }, await ReadAsync("numeric_trailing"));
    }

    [Fact]
    public async Task Bigquery_numeric_narrowed_to_the_contracts_numeric_5_2_loads_exact_values_and_refuses_a_third_decimal()
    {
        await LoadAsync("numeric_narrow", "numeric(5,2)", 38, 9, "98.500000000", "-999.990000000", "0.000000000");
        Assert.Equal(new string?[] { "98.50", "-999.99", "0.00" }, await ReadAsync("numeric_narrow"));

        var error = await Record.ExceptionAsync(() => LoadAsync("numeric_narrow_bad", "numeric(5,2)", 38, 9, "98.505000000"));
        Assert.Contains("98.505000000 has more than 2 fractional digits", Assert.IsType<InvalidBatchException>(error).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Thirty_eight_digit_decimals_load_into_an_unconstrained_numeric_unchanged()
    {
        string?[] values = [$"{ThirtyEightNines[..18]}.{ThirtyEightNines[..20]}", $"-{ThirtyEightNines[..18]}.{ThirtyEightNines[..20]}", "0.00000000000000000000", "-1.50000000000000000000"];

        await LoadAsync("numeric_unconstrained", "numeric", 38, 20, values);

        Assert.Equal(values, await ReadAsync("numeric_unconstrained"));
    }

    [Fact]
    public async Task A_76_digit_bignumeric_value_is_written_to_an_unconstrained_numeric_column_digit_for_digit()
    {
        // Parquet.Net 6.1 writes no DECIMAL wider than 16 bytes, so BIGNUMERIC's DECIMAL(76,38) cannot be produced as a
        // shard here; this checks the writer that such a value would take, through a real binary COPY.
        var integer = "57896044618658097711785492504343953926";
        string[] values =
        [
            $"{ThirtyEightNines}.{ThirtyEightNines}",
            $"-{ThirtyEightNines}.{ThirtyEightNines}",
            $"{integer}.00000000000000000000000000000000000001",
            "0.00000000000000000000000000000000000000",
            "-1.50000000000000000000000000000000000000",
            "10000.00000000000000000000000000000000000000",
        ];
        await using var connection = await database.OpenAsync();
        await using (var create = new Npgsql.NpgsqlCommand("CREATE TEMP TABLE wide (k integer, v numeric)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using (var copy = await connection.BeginRawBinaryCopyAsync("COPY wide (k, v) FROM STDIN (FORMAT BINARY)"))
        {
            var writer = new Writeback.Core.Loading.BinaryCopyWriter(copy);
            for (var i = 0; i < values.Length; i++)
            {
                var value = Value(values[i], 76, 38)!.Value;
                writer.StartRow(2);
                writer.Int4(i);
                writer.Numeric(value.UnscaledValue, value.Scale);
            }

            await writer.CompleteAsync(CancellationToken.None);
        }

        var stored = new List<string>();
        await using (var select = new Npgsql.NpgsqlCommand("SELECT v::text FROM wide ORDER BY k", connection))
        await using (var reader = await select.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                stored.Add(reader.GetString(0));
            }
        }

        Assert.Equal(values, stored);
        Assert.True(stored[0].Length > 50, "the test must exercise more than 50 digits");
    }

    [Fact]
    public void Unconstrained_numeric_and_numeric_38_9_are_contract_types()
    {
        Assert.Equal(new ColumnType(ColumnKind.Numeric), ColumnType.TryParse("numeric"));
        Assert.Equal("numeric", ColumnType.TryParse("decimal")!.Sql);
        Assert.Equal(new ColumnType(ColumnKind.Numeric, 38, 9), ColumnType.TryParse("NUMERIC(38, 9)"));
        Assert.Equal(new ColumnType(ColumnKind.Numeric, 1000, 0), ColumnType.TryParse("numeric(1000)"));
        Assert.Null(ColumnType.TryParse("numeric(1001,0)"));
        Assert.Null(ColumnType.TryParse("numeric(5,6)"));
    }
}
