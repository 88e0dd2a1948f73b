using Npgsql;
using Parquet;
using Parquet.Schema;
using Writeback.Core.Contracts;
using Writeback.Core.Loading.Columns;

namespace Writeback.Core.Loading;

/// <summary>
/// Streams one Parquet shard into the batch's staging table with binary COPY, row group by row group, so memory is
/// bounded by a row group and not by the file.
/// </summary>
internal static class ShardCopier
{
    // UseBigDecimal: DECIMAL values arrive as their unscaled integer and scale, never through System.Decimal, which
    // holds 28-29 digits (BigQuery NUMERIC is DECIMAL(38,9), BIGNUMERIC wider).
    private static readonly ParquetOptions Options = new() { UseDateOnlyTypeForDates = true, TreatByteArrayAsString = false, UseBigDecimal = true };

    /// <summary>
    /// Validates the shard's schema against the target and returns the rows copied. A row with a value its column cannot
    /// hold fails the shard, or, with <paramref name="rejects"/>, is left out whole and recorded there.
    /// </summary>
    public static async Task<long> CopyAsync(
        NpgsqlConnection connection, string stagingTable, ResolvedTarget target, string path, int shardIndex, long expectedRows,
        ShardRejects? rejects, string describe, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.RandomAccess);
        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(file, Options, leaveStreamOpen: true, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidBatchException($"{describe}: not a readable Parquet file ({e.GetType().Name}: {e.Message}).", e);
        }

        await using (reader)
        {
            var loaders = Plan(target, reader.Schema, describe);
            long metadataRows = 0;
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                metadataRows += reader.RowGroups[g].RowCount;
            }

            if (metadataRows != expectedRows)
            {
                throw new InvalidBatchException($"{describe}: the shard holds {metadataRows} rows, the manifest says {expectedRows}.");
            }

            var columnList = string.Join(", ", loaders.Select(l => l.Column.Quoted)) + ", _wb_shard, _wb_row";
            long shardRow = 0;
            var copy = await connection.BeginRawBinaryCopyAsync($"COPY {stagingTable} ({columnList}) FROM STDIN (FORMAT BINARY)", cancellationToken);
            try
            {
                // Lambda's 15-minute ceiling, not Npgsql's 30 s command default, bounds a large shard.
                copy.WriteTimeout = (int)TimeSpan.FromMinutes(15).TotalMilliseconds;
                var writer = new BinaryCopyWriter(copy);
                for (var g = 0; g < reader.RowGroupCount; g++)
                {
                    using var rowGroup = reader.OpenRowGroupReader(g);
                    var rows = checked((int)rowGroup.RowCount);
                    try
                    {
                        foreach (var loader in loaders)
                        {
                            await loader.ReadAsync(rowGroup, rows, cancellationToken);
                        }
                    }
                    catch (Exception e) when (e is not OperationCanceledException and not InvalidBatchException and not NpgsqlException)
                    {
                        throw new InvalidBatchException($"{describe}: row group {g} cannot be read ({e.GetType().Name}: {e.Message}); truncated or corrupt Parquet.", e);
                    }

                    WriteRows(writer, loaders, rows, shardIndex, shardRow, rejects);
                    shardRow += rows;
                }

                await writer.CompleteAsync(cancellationToken);
            }
            catch
            {
                // A binary COPY that ends between two rows is complete to PostgreSQL: a failed shard must fail it.
                await CancelAsync(copy);
                throw;
            }

            // Disposing sends the end of the data and waits for the server to accept it.
            await copy.DisposeAsync();

            if (shardRow != expectedRows)
            {
                throw new InvalidBatchException($"{describe}: read {shardRow} rows, the manifest says {expectedRows}.");
            }

            return shardRow - (rejects?.Rows.Count ?? 0);
        }
    }

    // Synchronous on purpose: the writer buffers, and a per-value await costs more than the write it waits for.
    // A row is checked whole before any of it is written: a COPY cannot take back half a row.
    private static void WriteRows(BinaryCopyWriter writer, ColumnLoader[] loaders, int rows, int shardIndex, long firstRow, ShardRejects? rejects)
    {
        for (var r = 0; r < rows; r++)
        {
            var shardRow = firstRow + r;
            var (failing, problem) = FirstProblem(loaders, r);
            if (failing is not null)
            {
                if (rejects is null)
                {
                    throw failing.Fail(shardRow, problem!);
                }

                rejects.Add(failing, shardRow, problem!);
                continue;
            }

            writer.StartRow(loaders.Length + 2);
            foreach (var loader in loaders)
            {
                loader.Write(writer, r);
            }

            writer.Int4(shardIndex);
            writer.Bigint(shardRow);
        }
    }

    // When the connection itself broke, cancelling fails too; the failure that got here says what went wrong.
    private static async Task CancelAsync(NpgsqlRawCopyStream copy)
    {
        try
        {
            await copy.CancelAsync();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or ObjectDisposedException)
        {
        }

        try
        {
            await copy.DisposeAsync();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or ObjectDisposedException)
        {
        }
    }

    private static (ColumnLoader? Loader, ValueProblem? Problem) FirstProblem(ColumnLoader[] loaders, int row)
    {
        foreach (var loader in loaders)
        {
            if (loader.Check(row) is { } problem)
            {
                return (loader, problem);
            }
        }

        return (null, null);
    }

    /// <summary>Matches the shard's columns to the contract: none missing, none extra, every type compatible.</summary>
    internal static ColumnLoader[] Plan(ResolvedTarget target, ParquetSchema schema, string describe)
    {
        var fields = schema.GetDataFields();
        var byName = new Dictionary<string, DataField>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            if (field.MaxRepetitionLevel > 0 || field.Path.ToList().Count > 1)
            {
                throw new InvalidBatchException($"{describe}, column '{field.Path}': nested or repeated Parquet columns are not supported.");
            }

            if (target.Find(field.Name) is null)
            {
                throw new InvalidBatchException($"{describe}, column '{field.Name}': the shard has a column that the target contract for {target.Table} does not declare.");
            }

            byName[field.Name] = field;
        }

        var loaders = new ColumnLoader[target.Columns.Count];
        for (var i = 0; i < target.Columns.Count; i++)
        {
            var column = target.Columns[i];
            if (!byName.TryGetValue(column.Name, out var field))
            {
                throw new InvalidBatchException($"{describe}, column '{column.Name}': missing from the shard.");
            }

            loaders[i] = ColumnLoaders.For(column, field, describe)
                ?? throw new InvalidBatchException($"{describe}, column '{column.Name}': type mismatch: the shard has {ColumnLoader.DescribeField(field)}, the contract says {column.Type}.");
        }

        return loaders;
    }
}
