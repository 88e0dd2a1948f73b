using System.CommandLine;
using System.Globalization;
using Writeback.Cli.Local;
using Writeback.Core.Engine;
using Writeback.History;

namespace Writeback.Cli;

/// <summary><c>writeback rollback</c>: put an earlier batch of one business date back, through the real state machine.</summary>
internal static class RollbackCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = "The dataset (a target in targets/).", Required = true };
        var date = new Option<string>("--date") { Description = "The business date whose partition is rolled back (yyyy-MM-dd).", Required = true };
        var to = new Option<string?>("--to") { Description = "The batch to put back; default: the one applied before the current one (with other content)." };
        var reason = new Option<string>("--reason") { Description = "Why: kept in the ledger and sent with the alert.", Required = true };
        var by = new Option<string>("--by") { Description = "Who asks; default: the OS user.", DefaultValueFactory = _ => Environment.UserName };
        var command = new Command(
            "rollback",
            "Re-apply an earlier batch of a partition from its manifest and shards, overriding the ordering rule once; recorded in the ledger and run history with who and why, and alerted.")
        {
            dataset, date, to, reason, by,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!DateOnly.TryParseExact(parse.GetValue(date), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var businessDate))
            {
                return Fail($"--date must be a date like 2026-11-25, not '{parse.GetValue(date)}'.");
            }

            var request = new RollbackRequest(Replaces: "", By: parse.GetValue(by)!.Trim(), Reason: parse.GetValue(reason)!.Trim());
            if (request.By.Length is 0 or > RollbackRequest.MaxByLength || request.Reason.Length is 0 or > RollbackRequest.MaxReasonLength)
            {
                return Fail($"--by and --reason must not be empty (at most {RollbackRequest.MaxByLength} and {RollbackRequest.MaxReasonLength} characters).");
            }

            if (await CliDatabase.RequireAsync("rollback", cancellationToken) is not { } connectionString)
            {
                return 2;
            }

            RollbackPlan plan;
            try
            {
                var exports = ProjectPaths.Exports(ProjectPaths.State);
                plan = await RollbackRunner.PlanAsync(
                    Writeback.Steps.StepHandlers.CreateEngine(new Writeback.Steps.StepOptions(connectionString, ProjectPaths.Targets, Writeback.Core.Storage.SourcePolicy.LocalFolder(exports))),
                    exports, parse.GetValue(dataset)!, businessDate, parse.GetValue(to), request, cancellationToken);
            }
            catch (RollbackRefusedException e)
            {
                return Fail(e.Message);
            }

            Console.Error.WriteLine($"writeback rollback: {plan.Dataset} {businessDate:yyyy-MM-dd}: putting batch {plan.To} back over {plan.Current} (by {plan.Request.By}: {plan.Request.Reason})");
            using var functionLog = FunctionLog.Open(Path.Combine(ProjectPaths.State, "functions.log"));
            var progress = new ProgressLine(Console.Error, interactive: !Console.IsErrorRedirected);
            var options = new DemoOptions { ConnectionString = connectionString, BusinessDate = businessDate, StateFolder = ProjectPaths.State, FunctionLog = functionLog.Write };
            Writeback.StepFunctions.Execution execution;
            await using (var aws = await LocalAwsSide.StartAsync(DemoStack.AwsSide(options), cancellationToken))
            {
                execution = await RollbackRunner.StartAsync(aws, plan, progress, cancellationToken);
            }

            progress.Done();
            Console.Out.WriteLine($"execution  {execution.Name}: {execution.StatusName}");
            if (execution.StatusName != "SUCCEEDED")
            {
                Console.Out.WriteLine($"  FAILED   {execution.Error}: {execution.Cause}");
                return 1;
            }

            Console.Out.WriteLine($"  output   {execution.OutputJson}");
            await using var history = new RunHistory(connectionString);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            foreach (var alert in await SloCommand.Monitor(history, http).AlertRollbacksAsync(SloCommand.Targets, cancellationToken))
            {
                Console.Out.WriteLine($"  alert    {alert.Alert.Message}" + (alert.FailedSinks.Count > 0 ? $" (not delivered to: {string.Join(", ", alert.FailedSinks)})" : ""));
            }

            return 0;
        });
        return command;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"writeback rollback: {message}");
        return 2;
    }
}
