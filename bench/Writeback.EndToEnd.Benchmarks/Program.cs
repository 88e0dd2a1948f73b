using System.Diagnostics;
using System.Globalization;
using Writeback.Aggregate;
using Writeback.Aggregate.Warehouse;
using Writeback.EndToEnd.Benchmarks;

// End to end against psql \copy, in one run: the demo's warehouse and exporter make the batch, the real state machine
// on the project's engine applies it, and psql \copy of the same rows into an empty table with the same primary key
// is the baseline. Cases: a fresh partition; re-applying the day with 100 %, 25 % and 1 % of rows changed (WAL beside a
// full rewrite's); the floor of a re-apply that compares rows in the writer (reading the day's fingerprints); one shard
// against several (the large size); a fresh day into a table partitioned by day (attached, not copied), and re-applies
// to it. Each measured action also reports the server's, the writer's and the machine's CPU, which show where the
// ceiling of parallel loads is. Needs WRITEBACK_PG (run.sh starts a throwaway server).

var options = Options.Parse(args);
var connectionString = Environment.GetEnvironmentVariable("WRITEBACK_PG")
    ?? throw new InvalidOperationException("WRITEBACK_PG is not set; run bench/Writeback.EndToEnd.Benchmarks/run.sh, which starts a throwaway PostgreSQL.");
var root = Environment.GetEnvironmentVariable("WRITEBACK_ROOT") ?? throw new InvalidOperationException("WRITEBACK_ROOT is not set; run run.sh.");
var state = Path.Combine(root, ".writeback", "bench");
var exports = Path.Combine(state, "exports");
// The server's data directory names its postmaster, whose CPU is the server's; a server of your own has none here.
var cpu = CpuMeter.ForServer(Environment.GetEnvironmentVariable("WRITEBACK_PG_DATADIR"));
var db = new Database(connectionString, cpu, options.Date, options.Fillfactor);

Console.WriteLine($"# Writeback end-to-end benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {Report.Load()}");
Console.WriteLine($"# server: {await db.ScalarAsync<string>("SELECT version()")}");
Console.WriteLine($"# {options.Size.Name()} warehouse, business date {options.Date:yyyy-MM-dd}, "
    + (options.Fillfactor is { } fillfactor ? $"fillfactor {fillfactor} (plain table: its own; partitioned: an empty partition for the day before), " : "table storage as created, ")
    + $"median of {options.Repeat} rounds after one warm-up; ratio = writeback time / psql \\copy time");
Console.WriteLine(cpu.Postmaster is { } postmaster
    ? $"# server CPU: postmaster {postmaster} and its children; writer CPU: this process (the handlers run in it); psql CPU: the child's"
    : "# server CPU: n/a (WRITEBACK_PG_DATADIR is not set: a server of your own); writer CPU: this process; psql CPU: the child's");
Directory.CreateDirectory(state);
var warehousePath = Path.Combine(state, $"warehouse-{options.Size.Name()}-{SampleWarehouse.DefaultSeed}.duckdb");
var clock = Stopwatch.StartNew();
SampleWarehouse.Ensure(warehousePath, SampleWarehouse.DefaultSeed, options.Size, options.Date);
Console.WriteLine($"# warehouse ready in {clock.Elapsed.TotalSeconds:0.0} s ({Path.GetRelativePath(root, warehousePath)})");

var workflow = Workflow.Create(connectionString, root, exports, cpu);
var single = await ExportAsync(long.MaxValue / 2);
Console.WriteLine($"# batch: {single.Rows:N0} rows, {single.Shards} shard(s), {single.Bytes / 1048576.0:0.0} MiB Parquet");

// Warm-up: JIT and caches for both sides; it also yields the rows for psql's CSV (the product table's own text). The
// first run creates the product table as the demo's target says (partitioned by day); the cases before "partitioned"
// measure it as a plain table.
await db.ResetAsync();
await workflow.RunAsync(single.ManifestUri);
await db.ReshapeProductTableAsync(partitioned: false);
await db.ResetAsync();
await workflow.RunAsync(single.ManifestUri);
var csv = Path.Combine(state, $"rows-{options.Size.Name()}.csv");
await db.ExportCsvAsync(csv);
await db.CopyAsync(csv);

if (options.Runs("fresh"))
{
    Report.Title($"Fresh partition end to end vs psql \\copy into an empty table with the same key ({single.Rows:N0} rows)");
    var copies = new List<Measured>();
    var ours = new List<(Measured Run, WorkflowRun Workflow)>();
    var rewrites = new List<Measured>();
    for (var round = 0; round < options.Repeat; round++)
    {
        copies.Add(await db.CopyAsync(csv));
        await db.ResetAsync();
        ours.Add(await db.MeasureAsync(() => workflow.RunAsync(single.ManifestUri)));
        rewrites.Add(await db.RewriteAsync());
        Report.Round(round, ours[^1].Run, copies[^1]);
    }

    Report.Case("fresh partition", ours.Select(o => o.Run), copies);
    Report.Case("full rewrite of the day (DELETE + INSERT, one transaction)", rewrites, copies);
    Report.Steps(ours.Select(o => o.Workflow));
}

var variants = new Dictionary<int, string>();
if (options.Runs("reapply"))
{
    Report.Title("Re-applying the day with some rows changed (the applied day is the fresh batch), vs the same psql \\copy");
    await ReapplyAsync("re-apply", 100, 25, 1);
}

if (options.Runs("floor"))
{
    Report.Title("Floor of a re-apply that compares rows in the writer: the applied day's keys and row hashes read through COPY (FORMAT binary), vs the same psql \\copy");
    var copies = new List<Measured>();
    var reads = new List<Measured>();
    await db.ResetAsync();
    await workflow.RunAsync(single.ManifestUri);
    for (var round = 0; round < options.Repeat; round++)
    {
        copies.Add(await db.CopyAsync(csv));
        var (read, bytes) = await db.ReadFingerprintsAsync();
        reads.Add(read);
        Report.Round(round, read, copies[^1], $"{Report.Mb(bytes)} read", "fingerprints");
    }

    Report.Case("the day's fingerprints read", reads, copies);
}

if (options.Runs("shards"))
{
    var sharded = await ExportAsync(Math.Max(1024, (long)(single.Bytes / (options.Shards - 0.5))));
    Report.Title($"{sharded.Shards} shards vs one ({single.Rows:N0} rows, fresh partition each time; Map runs up to 8 shard loads at once)");
    var one = new List<(Measured Run, WorkflowRun Workflow)>();
    var many = new List<(Measured Run, WorkflowRun Workflow)>();
    for (var round = 0; round < options.Repeat; round++)
    {
        await db.ResetAsync();
        one.Add(await db.MeasureAsync(() => workflow.RunAsync(single.ManifestUri)));
        await db.ResetAsync();
        many.Add(await db.MeasureAsync(() => workflow.RunAsync(sharded.ManifestUri)));
        Console.WriteLine($"  round {round}: one shard {one[^1].Run.Seconds:0.00} s, {sharded.Shards} shards {many[^1].Run.Seconds:0.00} s (load average {Report.Load()})");
    }

    double Rate(IEnumerable<(Measured Run, WorkflowRun Workflow)> runs, Func<(Measured Run, WorkflowRun Workflow), double> seconds) => single.Rows / Report.Median(runs.Select(seconds));
    foreach (var (label, seconds) in new (string, Func<(Measured Run, WorkflowRun Workflow), double>)[]
    {
        ("end to end", r => r.Run.Seconds),
        ("LoadShard (the Map)", r => r.Workflow.Steps.GetValueOrDefault("Load shards").TotalSeconds),
    })
    {
        var a = Rate(one, seconds);
        var b = Rate(many, seconds);
        Console.WriteLine($"{label,-22} one shard {a,12:N0} rows/s · {sharded.Shards} shards {b,12:N0} rows/s · {b / a:0.00}x");
    }

    foreach (var (label, use) in new (string, Func<(Measured Run, WorkflowRun Workflow), CpuUse?>)[]
    {
        ("CPU, end to end", r => r.Run.Cpu),
        ("CPU, the shard loads", r => r.Workflow.LoadCpu),
    })
    {
        Console.WriteLine($"{label} (median): one shard {Report.Cpu(CpuUse.Median([.. one.Select(use).OfType<CpuUse>()]))}; {sharded.Shards} shards {Report.Cpu(CpuUse.Median([.. many.Select(use).OfType<CpuUse>()]))}");
    }

    Report.Steps(many.Select(o => o.Workflow));
}

// Last, because they change the product table: the same day into a table partitioned by day, where Publish attaches
// staging as the day's partition instead of copying its rows.
if (options.Runs("partitioned") || options.Runs("partitioned-reapply"))
{
    await db.ReshapeProductTableAsync(partitioned: true);
}

if (options.Runs("partitioned"))
{
    Report.Title($"Fresh partition of a table partitioned by day (publish = ATTACH PARTITION) vs psql \\copy ({single.Rows:N0} rows)");
    var copies = new List<Measured>();
    var ours = new List<(Measured Run, WorkflowRun Workflow)>();
    await db.ResetAsync();
    await workflow.RunAsync(single.ManifestUri);
    for (var round = 0; round < options.Repeat; round++)
    {
        copies.Add(await db.CopyAsync(csv));
        await db.ResetAsync();
        ours.Add(await db.MeasureAsync(() => workflow.RunAsync(single.ManifestUri)));
        Report.Round(round, ours[^1].Run, copies[^1]);
    }

    Report.Case("fresh partition, partitioned table", ours.Select(o => o.Run), copies);
    Report.Steps(ours.Select(o => o.Workflow));
}

if (options.Runs("partitioned-reapply"))
{
    Report.Title("Re-applying the day of a table partitioned by day with some rows changed (the applied day is the fresh batch), vs the same psql \\copy");
    await ReapplyAsync("re-apply, partitioned table", 25, 1);
}

return 0;

// Each round applies the fresh batch, then measures a later export of the day with the given share of rows changed.
async Task ReapplyAsync(string label, params int[] percents)
{
    var copies = new List<Measured>();
    foreach (var percent in percents)
    {
        var variant = Variant(percent);
        var ours = new List<(Measured Run, WorkflowRun Workflow)>();
        for (var round = 0; round < options.Repeat; round++)
        {
            copies.Add(await db.CopyAsync(csv));
            await db.ResetAsync();
            await workflow.RunAsync(single.ManifestUri);
            ours.Add(await db.MeasureAsync(() => workflow.RunAsync(variant)));
            Report.Round(round, ours[^1].Run, copies[^1], $"{ours[^1].Workflow.Output?["published"]?["updated"]} updated");
        }

        Report.Case($"{label}, {percent} % changed", ours.Select(o => o.Run), copies);
        Report.Steps(ours.Select(o => o.Workflow));
    }
}

// A variant is written once per share and run, each with a higher sequence than the fresh batch's.
string Variant(int percent) =>
    variants.TryGetValue(percent, out var uri) ? uri : variants[percent] = Variants.Write(single.ManifestUri, exports, percent, variants.Count + 1);

async Task<AggregateResult> ExportAsync(long maxShardBytes) =>
    await AggregateRunner.CreateLocal(new LocalAggregateOptions { WarehousePath = warehousePath, OutputRoot = exports, MaxShardBytes = maxShardBytes })
        .RunAsync("student_dashboard", options.Date, CancellationToken.None);

internal sealed record Options(WarehouseSize Size, DateOnly Date, int Repeat, int Shards, int? Fillfactor, string[] Only)
{
    public bool Runs(string part) => Only.Length == 0 || Only.Contains(part);

    public static Options Parse(string[] args)
    {
        var o = new Options(WarehouseSize.Medium, new DateOnly(2026, 11, 1), 3, 6, null, []);
        for (var i = 0; i < args.Length; i++)
        {
            o = args[i] switch
            {
                "--size" => o with { Size = WarehouseSizes.TryParse(args[++i], out var size) ? size : throw new ArgumentException($"--size must be small, medium or large, not {args[i]}") },
                "--date" => o with { Date = DateOnly.ParseExact(args[++i], "yyyy-MM-dd", CultureInfo.InvariantCulture) },
                "--repeat" => o with { Repeat = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--shards" => o with { Shards = int.Parse(args[++i], CultureInfo.InvariantCulture) },
                "--fillfactor" => o with { Fillfactor = int.Parse(args[++i], CultureInfo.InvariantCulture) is var f and >= 10 and <= 100 ? f : throw new ArgumentException($"--fillfactor must be 10 to 100, not {args[i]}") },
                "--only" => o with { Only = args[++i].Split(',') },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return o;
    }
}
