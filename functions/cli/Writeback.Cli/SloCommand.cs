using System.CommandLine;
using Writeback.Aws.Sns;
using Writeback.Cli.Local;
using Writeback.Core.Contracts;
using Writeback.History;
using Writeback.Slo;
using Writeback.Slo.Alerts;
using Writeback.Telemetry;

namespace Writeback.Cli;

/// <summary>
/// <c>writeback slo check</c>: what the scheduled Lambda does, once, here. Alerts go to the log
/// (.writeback/alerts.jsonl) always, to Slack when WRITEBACK_SLACK_WEBHOOK is set, to SNS when WRITEBACK_ALERT_TOPIC_ARN is.
/// </summary>
internal static class SloCommand
{
    public static Command Create()
    {
        var check = new Command("check", "Evaluate every dataset in targets/ against its deadline now; alert on state changes.");
        check.SetAction(async (_, cancellationToken) =>
        {
            if (await CliDatabase.RequireAsync("slo check", cancellationToken) is not { } connectionString)
            {
                return 2;
            }

            var results = await CheckAsync(connectionString, cancellationToken);
            foreach (var result in results)
            {
                var e = result.Evaluation;
                Console.Out.WriteLine($"{e.Dataset,-20} {e.State.Name(),-15} {e.Detail}");
                if (result.Alert is { } alert)
                {
                    Console.Out.WriteLine($"{"",-20} alert: {alert.Message}" + (result.FailedSinks.Count > 0 ? $" (not delivered to: {string.Join(", ", result.FailedSinks)})" : ""));
                }
            }

            return 0;
        });
        return new Command("slo", "Deadlines and alerts.") { check };
    }

    /// <summary>One check of every dataset with a deadline; also what the demo summary calls.</summary>
    public static async Task<IReadOnlyList<SloCheckResult>> CheckAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var history = new RunHistory(connectionString);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        var results = await Monitor(history, http).CheckAsync(Targets, cancellationToken);
        await history.PurgeAsync(RunHistoryOptions.FromEnvironment(Environment.GetEnvironmentVariable).Retention, cancellationToken);
        return results;
    }

    public static IReadOnlyList<SloTarget> Targets => SloTarget.From(TargetCatalog.FromDirectory(ProjectPaths.Targets));

    /// <summary>The check with the sinks the environment configures; the log (.writeback/alerts.jsonl) always.</summary>
    public static SloMonitor Monitor(RunHistory history, HttpClient http)
    {
        var log = StructuredLog.ToFile(Path.Combine(ProjectPaths.State, "alerts.jsonl"));
        return new SloMonitor(history, new SloEvaluator(history, SloOptions.FromEnvironment(Environment.GetEnvironmentVariable)), AlertSinks.FromEnvironment(http, log, Environment.GetEnvironmentVariable, SnsAlertSink.FromEnvironment(http, Environment.GetEnvironmentVariable)), log, sweepStuckBatches: true);
    }
}
