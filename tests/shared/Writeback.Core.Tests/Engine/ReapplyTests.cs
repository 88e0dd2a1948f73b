using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

/// <summary>
/// A re-apply writes only what changed and must end exactly as a full rewrite of the same batch would: each test loads
/// the same batch into a second, empty table of the same contract and compares the two row for row.
/// </summary>
public sealed class ReapplyTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    [Fact]
    public async Task A_reapply_that_changes_nulls_deletes_and_inserts_rows_ends_equal_to_a_full_rewrite_and_leaves_other_days_alone()
    {
        var target = ScoresTarget("reapply_scores", LoadMode.ReplacePartition);
        var rewrite = ScoresTarget("reapply_scores_rewrite", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target, rewrite);
        var first = WithNulls(Scores(Day1, 1000));
        var second = Edited(first);
        await RunAsync(engine, await _batches.WriteScoresAsync("scores-day2", target.Dataset, [Scores(Day2, 200)], "2026-11-02"));
        await RunAsync(engine, await _batches.WriteScoresAsync("scores-1", target.Dataset, [first[..500], first[500..]], "2026-11-01"));
        await RunAsync(engine, await _batches.WriteScoresAsync("rewrite-day2", rewrite.Dataset, [Scores(Day2, 200)], "2026-11-02"));

        var published = await RunAsync(engine, await _batches.WriteScoresAsync("scores-2", target.Dataset, [second[..400], second[400..]], "2026-11-01", sequence: 2));
        await RunAsync(engine, await _batches.WriteScoresAsync("rewrite-2", rewrite.Dataset, [second], "2026-11-01"));

        Assert.Equal((20L, 80L, 40L), (published.Inserted, published.Updated, published.Deleted));
        Assert.Equal(second.Count - 100L, published.Unchanged);
        Assert.Equal(await TableDigestAsync(database.ConnectionString, "test.reapply_scores_rewrite"), await TableDigestAsync(database.ConnectionString, "test.reapply_scores"));
    }

    /// <summary>Rows of the day that follow a row with a greater key in the heap: none when they were inserted in key order.</summary>
    private static Task<long> OutOfKeyOrderAsync(string connectionString, string table) =>
        ScalarAsync<long>(connectionString, $"SELECT count(*) FROM (SELECT id, lag(id) OVER (ORDER BY ctid) AS previous FROM {table} WHERE day = '2026-11-01') AS r WHERE previous > id");

    [Fact]
    public async Task Rows_a_publish_inserts_reach_the_table_in_key_order_whatever_order_the_shards_hold_them_in()
    {
        // Inserts at random places of the key index touch a page each; in key order they fill one page after another.
        var target = ScoresTarget("reapply_key_order", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var shuffled = Scores(Day1, 3000).OrderBy(r => (r.Id * 7919) % 3001).ToList();
        await RunAsync(engine, await _batches.WriteScoresAsync("key-order-1", target.Dataset, [shuffled[..1000], shuffled[1000..]], "2026-11-01"));
        var freshOutOfOrder = await OutOfKeyOrderAsync(database.ConnectionString, "test.reapply_key_order");

        var more = shuffled.Concat(Scores(Day1, 3000, firstId: 3001).OrderByDescending(r => r.Id)).ToList();
        var published = await RunAsync(engine, await _batches.WriteScoresAsync("key-order-2", target.Dataset, [more], "2026-11-01", sequence: 2));

        Assert.Equal(0L, freshOutOfOrder);
        Assert.Equal((3000L, 0L, 0L, 3000L), (published.Inserted, published.Updated, published.Deleted, published.Unchanged));
        Assert.Equal(0L, await OutOfKeyOrderAsync(database.ConnectionString, "test.reapply_key_order"));
    }

    [Fact]
    public async Task A_reapply_with_nothing_deleted_skips_the_delete_and_still_counts_right()
    {
        var target = ScoresTarget("reapply_nodelete", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var first = Scores(Day1, 300);
        await RunAsync(engine, await _batches.WriteScoresAsync("nodelete-1", target.Dataset, [first], "2026-11-01"));
        var second = first.Select(r => r.Id % 100 == 0 ? r with { Minutes = r.Minutes + 1 } : r).Append(new ScoreRow(5000, Day1, "new", null, 1)).ToList();

        var published = await RunAsync(engine, await _batches.WriteScoresAsync("nodelete-2", target.Dataset, [second], "2026-11-01", sequence: 2));

        Assert.Equal((1L, 3L, 0L, 297L), (published.Inserted, published.Updated, published.Deleted, published.Unchanged));
        Assert.Equal(301L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.reapply_nodelete"));
    }

    [Fact]
    public async Task A_reapply_with_as_many_new_keys_as_dropped_ones_still_deletes_the_dropped_rows()
    {
        // The batch has as many rows as the day, ten keys swapped for ten new ones: comparing row counts alone would
        // find nothing to delete (a shortcut once measured for the diff must keep this green).
        var first = Scores(Day1, 300);
        var second = first.Where(r => r.Id % 30 != 0).Concat(Scores(Day1, 10, firstId: 5001)).ToList();

        var published = await ReapplyBesideRewriteAsync("swapped", first, second);

        Assert.Equal(first.Count, second.Count);
        Assert.Equal((10L, 0L, 10L, 290L), (published.Inserted, published.Updated, published.Deleted, published.Unchanged));
    }

    [Fact]
    public async Task A_reapply_that_changes_every_row_and_deletes_none_writes_only_updates_and_ends_equal_to_a_full_rewrite()
    {
        // The diff then has no delete and no insert rows; Publish must not run those writes at all (an empty DELETE
        // against a misestimated diff ran as a nested loop of the whole day against the whole diff).
        var first = Scores(Day1, 2000);
        var second = first.Select(r => r with { Minutes = r.Minutes + 1 }).ToList();

        var published = await ReapplyBesideRewriteAsync("all_changed", first, second);

        Assert.Equal((0L, 2000L, 0L, 0L), (published.Inserted, published.Updated, published.Deleted, published.Unchanged));
    }

    /// <summary>
    /// Publishes <paramref name="first"/> and then <paramref name="second"/> as one day of <c>test.reapply_{name}</c>,
    /// and <paramref name="second"/> alone into an empty twin table; checks that both tables end with the same rows and
    /// returns the re-apply's result.
    /// </summary>
    private async Task<PublishResult> ReapplyBesideRewriteAsync(string name, IReadOnlyList<ScoreRow> first, IReadOnlyList<ScoreRow> second)
    {
        var target = ScoresTarget($"reapply_{name}", LoadMode.ReplacePartition);
        var rewrite = ScoresTarget($"reapply_{name}_rewrite", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target, rewrite);
        await RunAsync(engine, await _batches.WriteScoresAsync($"{name}-1", target.Dataset, [first], "2026-11-01"));

        var published = await RunAsync(engine, await _batches.WriteScoresAsync($"{name}-2", target.Dataset, [second], "2026-11-01", sequence: 2));
        await RunAsync(engine, await _batches.WriteScoresAsync($"{name}-rewrite", rewrite.Dataset, [second], "2026-11-01"));

        Assert.Equal(await TableDigestAsync(database.ConnectionString, $"test.reapply_{name}_rewrite"), await TableDigestAsync(database.ConnectionString, $"test.reapply_{name}"));
        return published;
    }

    /// <summary>A score of null on every row whose id is 8 modulo 50.</summary>
    internal static List<ScoreRow> WithNulls(IReadOnlyList<ScoreRow> rows) => [.. rows.Select(r => r.Id % 50 == 8 ? r with { Score = null } : r)];

    /// <summary>
    /// Of every 1000 rows (from <see cref="WithNulls"/>): 80 changed (20 to a null score, 20 to a null name and other
    /// minutes, 20 to another name, 20 from a null score to a value), 40 deleted, 20 inserted.
    /// </summary>
    internal static List<ScoreRow> Edited(IReadOnlyList<ScoreRow> rows)
    {
        var edited = new List<ScoreRow>();
        foreach (var row in rows)
        {
            var slot = row.Id % 50;
            if (slot is 1 or 2)
            {
                continue;
            }

            edited.Add(slot switch
            {
                5 => row with { Score = null },
                6 => row with { Name = null, Minutes = row.Minutes + 1 },
                7 => row with { Name = "changed" },
                8 => row with { Score = 3.5m },
                _ => row,
            });
        }

        for (var i = 0; i < rows.Count / 50; i++)
        {
            edited.Add(new ScoreRow(100_000 + i, rows[0].Day, i % 2 == 0 ? null : "inserted", i % 3 == 0 ? null : 1.5m, i));
        }

        return edited;
    }
}
