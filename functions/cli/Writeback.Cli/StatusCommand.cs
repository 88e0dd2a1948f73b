using System.CommandLine;
using System.Globalization;
using Writeback.Cli.Local;
using Writeback.Core.Contracts;
using Writeback.History;
using Writeback.Slo;
using Writeback.Steps.Contract;

namespace Writeback.Cli;

/// <summary><c>writeback status</c>: recent batches per dataset with their SLO state, latest alerts and a per-step timeline.</summary>
internal static class StatusCommand
{
    private const int AlertsShown = 3;

    public static Command Create()
    {
        var dataset = new Option<string?>("--dataset") { Description = "Only this dataset." };
        var limit = new Option<int>("--limit") { Description = "Batches per dataset.", DefaultValueFactory = _ => 5 };
        var command = new Command("status", "Recent batches per dataset: SLO state, per-step timeline, durations and counts.") { dataset, limit };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (await CliDatabase.RequireAsync("status", cancellationToken) is not { } connectionString)
            {
                return 2;
            }

            await using var history = new RunHistory(connectionString);
            var targets = SloTarget.From(TargetCatalog.FromDirectory(ProjectPaths.Targets));
            var only = parse.GetValue(dataset);
            var evaluator = new SloEvaluator(history, SloOptions.FromEnvironment(Environment.GetEnvironmentVariable));
            var runs = await history.RecentBatchesAsync(Math.Max(1, parse.GetValue(limit)), only, cancellationToken);
            var alerts = (await SloMonitor.RecentAlertsAsync(history, 200, cancellationToken)).ToLookup(a => a.Dataset, StringComparer.Ordinal);
            var steps = (await history.StepsAsync([.. runs.Select(r => r.BatchId)], cancellationToken)).ToLookup(s => s.BatchId);
            var names = targets.Select(t => t.Dataset).Concat(runs.Select(r => r.Dataset ?? "(unknown)")).Concat(alerts.Select(a => a.Key))
                .Where(d => only is null || d == only).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);

            var o = Console.Out;
            foreach (var name in names)
            {
                var target = targets.FirstOrDefault(t => t.Dataset == name);
                if (target is null)
                {
                    o.WriteLine($"{name}  (no deadline in targets/)");
                }
                else
                {
                    var slo = await evaluator.EvaluateAsync(target, cancellationToken);
                    o.WriteLine($"{name}  SLO {slo.State.Name()}: {slo.Detail}");
                }

                // What the team was told, newest first: the alert sinks may be a channel nobody here reads.
                foreach (var alert in alerts[name].Take(AlertsShown))
                {
                    o.WriteLine($"  alert {Utc(alert.RaisedAt)}  {alert.Kind}: {alert.Message}");
                }

                var mine = runs.Where(r => (r.Dataset ?? "(unknown)") == name).ToList();
                if (mine.Count == 0)
                {
                    o.WriteLine("  no batches recorded");
                }

                foreach (var run in mine)
                {
                    PrintRun(o, run, steps[run.BatchId].ToList());
                }

                o.WriteLine();
            }

            return 0;
        });
        return command;
    }

    private static void PrintRun(TextWriter o, BatchRun run, IReadOnlyList<StepRun> steps)
    {
        var origin = run.TriggeredAt ?? run.StartedAt;
        var duration = run.Duration is { } d ? Durations.Format(d) : "running";
        o.WriteLine($"  {run.BatchId}  {run.Status}  partition {run.Partition ?? "?"}  arrived {Utc(origin)}  {duration}"
            + $"  rows {Number(run.Rows)}  bytes {Number(run.Bytes)}  retries {run.Retries}" + (run.Deliveries > 1 ? $"  deliveries {run.Deliveries}" : "")
            + (run.Rejected > 0 ? $"  rejected {Number(run.Rejected)} (writeback.rejects)" : ""));
        if (run.TraceId is not null)
        {
            o.WriteLine($"    trace {run.TraceId}");
        }

        if (run.Error is not null)
        {
            o.WriteLine($"    error {run.Error}: {run.Cause}");
        }

        // One line per step; the shards of load-shard fold into one line with their wall time and totals.
        foreach (var group in steps.GroupBy(s => s.Step).OrderBy(g => g.Min(s => s.StartedAt)))
        {
            var start = group.Min(s => s.StartedAt);
            var end = group.All(s => s.EndedAt is not null) ? group.Max(s => s.EndedAt) : null;
            var failed = group.Count(s => s.Status == StepStatus.Failed);
            var shards = group.Where(s => s.ShardIndex >= 0).Select(s => s.ShardIndex).Distinct().Count();
            var rows = group.Where(s => s.Status == StepStatus.Succeeded).Sum(s => s.Rows ?? 0);
            var status = group.Any(s => s.Status == StepStatus.Running) ? "running" : failed > 0 && group.All(s => s.Status == StepStatus.Failed) ? "failed" : "ok";
            o.WriteLine($"    {StepNames.DisplayName(group.Key),-12} +{Durations.Format(start - origin),-8} {(end is { } e ? Durations.Format(e - start) : "…"),-8} {status}"
                + (shards > 0 ? $"  {shards} shards" : "") + (rows > 0 ? $"  {rows:N0} rows" : "") + (failed > 0 ? $"  {failed} failed attempts" : ""));
        }
    }

    private static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Number(long? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "-";
}
