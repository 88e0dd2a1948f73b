using Npgsql;
using Writeback.Core.Engine;
using static Writeback.Core.Sql.SqlCommands;

namespace Writeback.Core.Ledger;

/// <summary>
/// Reads and writes of the shard ledger (<c>writeback.shards</c>): one row per shard whose rows are in staging, written
/// in the same transaction as those rows. Every call runs in the caller's transaction, under the caller's locks.
/// </summary>
internal static class ShardLedger
{
    /// <summary>The shard's row, as a load that finds it done answers.</summary>
    public static async Task<ShardLoadResult?> ReadAsync(NpgsqlConnection connection, string batchId, int shardIndex, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, "SELECT rows, bytes FROM writeback.shards WHERE batch_id = $1 AND shard_index = $2", batchId, shardIndex);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new ShardLoadResult(shardIndex, reader.GetInt64(0), reader.GetInt64(1), AlreadyLoaded: true) : null;
    }

    public static async Task InsertAsync(
        NpgsqlConnection connection, string batchId, int shardIndex, long rows, long bytes, string sha256, long rejected, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            connection,
            "INSERT INTO writeback.shards (batch_id, shard_index, rows, bytes, sha256, rejected) VALUES ($1, $2, $3, $4, $5, $6)",
            cancellationToken, batchId, shardIndex, rows, bytes, sha256, rejected);

    /// <summary>With staging gone the shard rows vouch for nothing: a re-run must load every shard again.</summary>
    public static async Task DeleteAsync(NpgsqlConnection connection, string batchId, CancellationToken cancellationToken) =>
        await ExecuteAsync(connection, "DELETE FROM writeback.shards WHERE batch_id = $1", cancellationToken, batchId);

    /// <summary>Rows staged per shard.</summary>
    public static Task<Dictionary<int, long>> RowsPerShardAsync(NpgsqlConnection connection, string batchId, CancellationToken cancellationToken) =>
        PerShardAsync(connection, batchId, "rows", cancellationToken);

    /// <summary>Rows set aside per shard under the target's rejected-rows policy.</summary>
    public static Task<Dictionary<int, long>> RejectedPerShardAsync(NpgsqlConnection connection, string batchId, CancellationToken cancellationToken) =>
        PerShardAsync(connection, batchId, "rejected", cancellationToken);

    /// <summary>The rows the shard ledger vouches for in staging: the manifest's total less the rejected rows.</summary>
    public static async Task<long> StagedRowsAsync(NpgsqlConnection connection, string batchId, CancellationToken cancellationToken) =>
        (await RowsPerShardAsync(connection, batchId, cancellationToken)).Values.Sum();

    /// <summary>One count of the shard ledger per shard: <c>rows</c> (staged) or <c>rejected</c>.</summary>
    private static async Task<Dictionary<int, long>> PerShardAsync(NpgsqlConnection connection, string batchId, string column, CancellationToken cancellationToken)
    {
        var loaded = new Dictionary<int, long>();
        await using var command = Command(connection, $"SELECT shard_index, {column} FROM writeback.shards WHERE batch_id = $1", batchId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            loaded[reader.GetInt32(0)] = reader.GetInt64(1);
        }

        return loaded;
    }
}
