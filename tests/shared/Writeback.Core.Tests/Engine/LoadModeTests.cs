using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Engine;

public sealed class LoadModeTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly TestBatches _batches = new();

    public void Dispose() => _batches.Dispose();

    private static ScoreRow Changed(ScoreRow row) => row with { Minutes = row.Minutes + 1 };

    [Fact]
    public async Task Replace_partition_creates_the_table_loads_a_day_and_reports_counts()
    {
        var target = ScoresTarget("rp_first", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("rp-first-1", target.Dataset, [Scores(Day1, 700), Scores(Day1, 300, firstId: 701)], partition: "2026-11-01");

        var result = await RunAsync(engine, manifest);

        Assert.Equal(new PublishResult("rp-first-1", PublishStatus.Applied, 1000, 0, 0, 0, null), result);
        Assert.Equal(1000L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.rp_first"));
        Assert.Equal("applied", await ScalarAsync<string>(database.ConnectionString, "SELECT status FROM writeback.batches WHERE batch_id = 'rp-first-1'"));
    }

    [Fact]
    public async Task Replace_partition_writes_only_what_changed_and_leaves_other_days_alone()
    {
        var target = ScoresTarget("rp_diff", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var day1 = Scores(Day1, 100);
        var day2 = Scores(Day2, 50);
        await RunAsync(engine, await _batches.WriteScoresAsync("rp-diff-1", target.Dataset, [day1], "2026-11-01", 1));
        await RunAsync(engine, await _batches.WriteScoresAsync("rp-diff-2", target.Dataset, [day2], "2026-11-02", 1));
        var day2Before = await TableDigestAsync(database.ConnectionString, "(SELECT * FROM test.rp_diff WHERE day = '2026-11-02') ");

        // 10 changed, 5 removed (ids 96-100), 3 new (ids 101-103), 85 unchanged.
        var next = day1.Take(95).Select((r, i) => i < 10 ? Changed(r) : r).Concat(Scores(Day1, 3, firstId: 101)).ToList();
        var result = await RunAsync(engine, await _batches.WriteScoresAsync("rp-diff-3", target.Dataset, [next], "2026-11-01", 2));

        Assert.Equal(new PublishResult("rp-diff-3", PublishStatus.Applied, 3, 10, 5, 85, null), result);
        Assert.Equal(98L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.rp_diff WHERE day = '2026-11-01'"));
        Assert.Equal(day2Before, await TableDigestAsync(database.ConnectionString, "(SELECT * FROM test.rp_diff WHERE day = '2026-11-02') "));
        Assert.Equal(85L, await ScalarAsync<long>(database.ConnectionString, "SELECT unchanged FROM writeback.batches WHERE batch_id = 'rp-diff-3'"));
    }

    [Fact]
    public async Task An_unchanged_batch_rewrites_no_row()
    {
        var target = ScoresTarget("rp_same", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await _batches.WriteScoresAsync("rp-same-1", target.Dataset, [Scores(Day1, 200)], "2026-11-01", 1));
        var xmin = await ScalarAsync<string>(database.ConnectionString, "SELECT string_agg(xmin::text, ',' ORDER BY id) FROM test.rp_same");

        // The same rows cut into two shards: other content to the ledger (so it loads and publishes), no change to the table.
        var rows = Scores(Day1, 200);
        var result = await RunAsync(engine, await _batches.WriteScoresAsync("rp-same-2", target.Dataset, [[.. rows.Take(100)], [.. rows.Skip(100)]], "2026-11-01", 2));

        Assert.Equal(new PublishResult("rp-same-2", PublishStatus.Applied, 0, 0, 0, 200, null), result);
        Assert.Equal(xmin, await ScalarAsync<string>(database.ConnectionString, "SELECT string_agg(xmin::text, ',' ORDER BY id) FROM test.rp_same"));
    }

    [Fact]
    public async Task Replace_makes_the_table_the_batch()
    {
        var target = ScoresTarget("rep", LoadMode.Replace);
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await _batches.WriteScoresAsync("rep-1", target.Dataset, [Scores(Day1, 50), Scores(Day2, 50)], sequence: 1));

        var result = await RunAsync(engine, await _batches.WriteScoresAsync("rep-2", target.Dataset, [Scores(Day2, 20, seed: 1)], sequence: 2));

        // Day 2's ids 1-20 stay (with new values); day 2's 21-50 and all of day 1 go.
        Assert.Equal(new PublishResult("rep-2", PublishStatus.Applied, 0, 20, 80, 0, null), result);
        Assert.Equal(20L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.rep"));
    }

    [Fact]
    public async Task Replace_without_a_key_deletes_and_inserts_the_whole_table()
    {
        var target = ScoresTarget("rep_unkeyed", LoadMode.Replace, keyed: false);
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await _batches.WriteScoresAsync("repu-1", target.Dataset, [Scores(Day1, 40)], sequence: 1));

        var result = await RunAsync(engine, await _batches.WriteScoresAsync("repu-2", target.Dataset, [Scores(Day1, 25)], sequence: 2));

        Assert.Equal(new PublishResult("repu-2", PublishStatus.Applied, 25, 0, 40, 0, null), result);
        Assert.Equal(25L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.rep_unkeyed"));
    }

    [Fact]
    public async Task Upsert_inserts_new_keys_updates_changed_rows_and_keeps_absent_ones()
    {
        var target = ScoresTarget("ups", LoadMode.Upsert);
        var engine = CreateEngine(database.ConnectionString, target);
        var first = Scores(Day1, 30);
        await RunAsync(engine, await _batches.WriteScoresAsync("ups-1", target.Dataset, [first], sequence: 1));

        var next = first.Take(10).Select((r, i) => i < 4 ? Changed(r) : r).Concat(Scores(Day1, 5, firstId: 31)).ToList();
        var result = await RunAsync(engine, await _batches.WriteScoresAsync("ups-2", target.Dataset, [next], sequence: 2));

        Assert.Equal(new PublishResult("ups-2", PublishStatus.Applied, 5, 4, 0, 6, null), result);
        Assert.Equal(35L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.ups"));
    }

    [Fact]
    public async Task Mirror_upserts_and_deletes_keys_absent_from_the_batch()
    {
        var target = ScoresTarget("mir", LoadMode.Mirror);
        var engine = CreateEngine(database.ConnectionString, target);
        var first = Scores(Day1, 30);
        await RunAsync(engine, await _batches.WriteScoresAsync("mir-1", target.Dataset, [first], sequence: 1));

        var next = first.Take(10).Select((r, i) => i < 4 ? Changed(r) : r).Concat(Scores(Day1, 5, firstId: 31)).ToList();
        var result = await RunAsync(engine, await _batches.WriteScoresAsync("mir-2", target.Dataset, [next], sequence: 2));

        Assert.Equal(new PublishResult("mir-2", PublishStatus.Applied, 5, 4, 20, 6, null), result);
        Assert.Equal(15L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.mir"));
    }

    [Fact]
    public async Task Append_inserts_every_row()
    {
        var target = ScoresTarget("app", LoadMode.Append, keyed: false);
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await _batches.WriteScoresAsync("app-1", target.Dataset, [Scores(Day1, 10)], sequence: 1));

        var result = await RunAsync(engine, await _batches.WriteScoresAsync("app-2", target.Dataset, [Scores(Day1, 10)], sequence: 2));

        Assert.Equal(new PublishResult("app-2", PublishStatus.Applied, 10, 0, 0, 0, null), result);
        Assert.Equal(20L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.app"));
    }

    [Fact]
    public async Task Views_grants_indexes_foreign_keys_and_triggers_survive_a_publish()
    {
        var target = ScoresTarget("deps", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await _batches.WriteScoresAsync("deps-1", target.Dataset, [Scores(Day1, 20)], "2026-11-01", 1));
        var oid = await ScalarAsync<uint>(database.ConnectionString, "SELECT 'test.deps'::regclass::oid");
        await ExecuteAsync(database.ConnectionString, """
            CREATE VIEW test.deps_view AS SELECT day, sum(minutes) AS minutes FROM test.deps GROUP BY day;
            DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dashboard_reader') THEN CREATE ROLE dashboard_reader; END IF; END $$;
            GRANT SELECT ON test.deps TO dashboard_reader;
            CREATE INDEX deps_minutes_idx ON test.deps (minutes);
            CREATE TABLE test.deps_notes (id bigint, day date, note text, FOREIGN KEY (id, day) REFERENCES test.deps (id, day));
            INSERT INTO test.deps_notes VALUES (1, '2026-11-01', 'kept');
            CREATE TABLE test.deps_audit (id bigint, op text);
            CREATE FUNCTION test.deps_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO test.deps_audit VALUES (NEW.id, TG_OP); RETURN NEW; END $$;
            CREATE TRIGGER deps_audit_trg AFTER INSERT OR UPDATE ON test.deps FOR EACH ROW EXECUTE FUNCTION test.deps_audit_fn();
            """);

        var next = Scores(Day1, 20).Select((r, i) => i == 0 ? Changed(r) : r).Concat(Scores(Day1, 1, firstId: 21)).ToList();
        var result = await RunAsync(engine, await _batches.WriteScoresAsync("deps-2", target.Dataset, [next], "2026-11-01", 2));

        Assert.Equal((1L, 1L), (result.Inserted, result.Updated));
        Assert.Equal(oid, await ScalarAsync<uint>(database.ConnectionString, "SELECT 'test.deps'::regclass::oid"));
        Assert.Equal(next.Sum(r => (long)r.Minutes), await ScalarAsync<long>(database.ConnectionString, "SELECT minutes FROM test.deps_view"));
        Assert.True(await ScalarAsync<bool>(database.ConnectionString, "SELECT has_table_privilege('dashboard_reader', 'test.deps', 'SELECT')"));
        Assert.True(await ScalarAsync<bool>(database.ConnectionString, "SELECT to_regclass('test.deps_minutes_idx') IS NOT NULL"));
        Assert.Equal(1L, await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM test.deps_notes n JOIN test.deps d USING (id, day)"));
        Assert.Equal("INSERT,UPDATE", await ScalarAsync<string>(database.ConnectionString, "SELECT string_agg(op, ',' ORDER BY op) FROM test.deps_audit"));
    }

    [Fact]
    public async Task A_publish_refused_by_a_dependent_foreign_key_is_invalid_and_keeps_the_previous_batch()
    {
        var target = ScoresTarget("fk_refused", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        await RunAsync(engine, await _batches.WriteScoresAsync("fk-refused-1", target.Dataset, [Scores(Day1, 5)], "2026-11-01", 1));
        await ExecuteAsync(database.ConnectionString, """
            CREATE TABLE test.fk_refused_notes (id bigint, day date, FOREIGN KEY (id, day) REFERENCES test.fk_refused (id, day));
            INSERT INTO test.fk_refused_notes VALUES (5, '2026-11-01');
            """);
        var digest = await TableDigestAsync(database.ConnectionString, "test.fk_refused");

        var error = await Record.ExceptionAsync(() => RunAsync(engine, _batches.WriteScoresAsync("fk-refused-2", target.Dataset, [Scores(Day1, 4)], "2026-11-01", 2).Result));

        Assert.Contains("batch 'fk-refused-2': publishing to test.fk_refused violates fk_refused_notes_id_day_fkey", Assert.IsType<InvalidBatchException>(error).Message);
        Assert.Equal(digest, await TableDigestAsync(database.ConnectionString, "test.fk_refused"));
    }
}
