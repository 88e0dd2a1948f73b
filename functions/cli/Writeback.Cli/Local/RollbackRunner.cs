using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Writeback.Core;
using Writeback.Core.Engine;
using Writeback.Trigger.Executions;

namespace Writeback.Cli.Local;

/// <summary>A rollback the ledger and the export folder allow: which batch goes back over which, from where.</summary>
internal sealed record RollbackPlan(string Dataset, DateOnly Date, string Current, string To, string ManifestPath, RollbackRequest Request)
{
    /// <summary>What the operator starts: the earlier batch's manifest and the override, which only execution input carries.</summary>
    public string InputJson() => new JsonObject
    {
        ["manifestUri"] = new Uri(ManifestPath).AbsoluteUri,
        ["batchId"] = To,
        ["dataset"] = Dataset,
        ["rollback"] = new JsonObject { ["replaces"] = Current, ["by"] = Request.By, ["reason"] = Request.Reason },
    }.ToJsonString();
}

/// <summary>A rollback that cannot be done, with what is missing and what to do.</summary>
internal sealed class RollbackRefusedException(string message) : Exception(message);

/// <summary>
/// <c>writeback rollback</c>'s work: find the batch a partition holds and the one to put back (the ledger), check that
/// the earlier batch's manifest and every shard are still retained, then start the real state machine with the override
/// in its input, so the batch goes through Prepare, Load shards, Verify and Publish like any other.
/// </summary>
internal static class RollbackRunner
{
    public static async Task<RollbackPlan> PlanAsync(
        LoadEngine engine, string exportsFolder, string dataset, DateOnly date, string? to, RollbackRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(request);
        var partition = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        RollbackChoice choice;
        try
        {
            choice = await engine.ChooseRollbackAsync(dataset, partition, to, cancellationToken);
        }
        catch (InvalidBatchException e)
        {
            throw new RollbackRefusedException(e.Message);
        }

        var manifestPath = Path.Combine(exportsFolder, dataset, partition, choice.To, "manifest.json");
        if (!File.Exists(manifestPath))
        {
            throw new RollbackRefusedException(
                $"batch '{choice.To}' is no longer retained: its manifest {manifestPath} is gone ({LoadEngine.RetentionHint}). Nothing was changed.");
        }

        var missing = await engine.NotRetainedAsync(new Uri(manifestPath).AbsoluteUri, cancellationToken);
        if (missing.Count > 0)
        {
            throw new RollbackRefusedException(
                $"batch '{choice.To}' is no longer retained: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")} missing ({LoadEngine.RetentionHint}). Nothing was changed.");
        }

        return new RollbackPlan(dataset, date, choice.Current, choice.To, manifestPath, request with { Replaces = choice.Current });
    }

    /// <summary>
    /// <c>{earlier batch id, cut to fit}_rb{n}_{10 hex}</c>: never the batch's own execution names (the trigger's), and a
    /// new n for each rollback to the same batch, since a closed name cannot be started again.
    /// </summary>
    public static string ExecutionNameFor(RollbackPlan plan, int n)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(plan.To + "\n" + plan.Current)))[..10];
        var suffix = string.Create(CultureInfo.InvariantCulture, $"_rb{n}_{hash}");
        var head = ExecutionName.FromBatchId(plan.To);
        return (head.Length + suffix.Length > ExecutionName.MaxLength ? head[..(ExecutionName.MaxLength - suffix.Length)] : head) + suffix;
    }

    public static async Task<Writeback.StepFunctions.Execution> StartAsync(LocalAwsSide aws, RollbackPlan plan, IProgress<DemoProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aws);
        var n = 1;
        while (aws.FindExecution(ExecutionNameFor(plan, n)) is not null)
        {
            n++;
        }

        var execution = aws.Engine.StartExecution(aws.StateMachine, plan.InputJson(), ExecutionNameFor(plan, n));
        await DemoStack.FollowAsync($"{plan.Dataset} {plan.Date:yyyy-MM-dd} rollback", plan.ManifestPath, execution, progress, cancellationToken);
        return execution;
    }
}
