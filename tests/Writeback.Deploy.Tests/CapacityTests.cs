using System.Text.Json.Nodes;

namespace Writeback.Deploy.Tests;

/// <summary>
/// What the deployed writers can hold: disk for the largest shard, and connections and concurrency for more than one
/// batch at a time, read from template.yaml, the state machine and targets/.
/// </summary>
public sealed class CapacityTests
{
    /// <summary>Lambda's ceiling for EphemeralStorage (MB).</summary>
    private const int LambdaMaxEphemeralStorageMb = 10240;

    /// <summary>/tmp when EphemeralStorage is not set (MB): what the writer needs besides shards.</summary>
    private const int LambdaDefaultEphemeralStorageMb = 512;

    /// <summary>BigQuery's EXPORT DATA writes files of up to about 1 GB (DESIGN.md, facts); a smaller figure understates it.</summary>
    private const int BigQueryLargestFileMiB = 1024;

    private static readonly CfnTemplate Template = CfnTemplate.Load(Repo.PathOf("template.yaml"));

    private static IEnumerable<(string Name, JsonObject Properties)> Functions => Template.ResourcesOfType("AWS::Serverless::Function");

    private static JsonObject Machine
    {
        get
        {
            var (_, properties) = Assert.Single(Template.ResourcesOfType("AWS::Serverless::StateMachine"));
            return AslDefinition.Load(Repo.PathOf(((string?)properties["DefinitionUri"])!.Split('/')));
        }
    }

    private static JsonObject Substitutions =>
        (JsonObject)Assert.Single(Template.ResourcesOfType("AWS::Serverless::StateMachine")).Properties["DefinitionSubstitutions"]!;

    private static int Int(JsonNode? node, string what) =>
        node is JsonValue value && int.TryParse(value.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new Xunit.Sdk.XunitException($"{what} is not a number: {node?.ToJsonString() ?? "missing"}");

    [Fact]
    public void The_documented_largest_shard_is_at_least_what_BigQuery_writes_into_one_file()
    {
        var largest = Int(Template.Root["Metadata"]?["Writeback"]?["LargestShardMiB"], "template.yaml Metadata.Writeback.LargestShardMiB");
        Assert.True(largest >= BigQueryLargestFileMiB,
            $"LargestShardMiB is {largest}, but BigQuery EXPORT DATA writes files of up to ~{BigQueryLargestFileMiB} MiB");
    }

    [Fact]
    public void Load_shard_has_disk_for_the_largest_shard_and_one_left_behind_by_a_killed_predecessor()
    {
        var largest = Int(Template.Root["Metadata"]?["Writeback"]?["LargestShardMiB"], "template.yaml Metadata.Writeback.LargestShardMiB");
        var (name, properties) = Assert.Single(Functions, f => (string?)f.Properties["Handler"] == "writeback-load-shard");
        var size = Int(Template.FunctionProperty(properties, "EphemeralStorage")?["Size"],
            $"{name}.EphemeralStorage.Size (Lambda's default is {LambdaDefaultEphemeralStorageMb} MB, less than one shard)");

        // MiB of shard against MB of storage: Lambda's EphemeralStorage unit is MB, so compare in bytes.
        long shardBytes = largest * 1024L * 1024L;
        long storageBytes = size * 1024L * 1024L;
        var needed = 2 * shardBytes + LambdaDefaultEphemeralStorageMb * 1024L * 1024L;
        Assert.True(storageBytes >= needed,
            $"{name} has {size} MB of /tmp; a {largest} MiB shard being downloaded, one orphaned by a timed-out predecessor and the default {LambdaDefaultEphemeralStorageMb} MB need {needed / (1024 * 1024)}");
        Assert.True(size <= LambdaMaxEphemeralStorageMb, $"{name}: EphemeralStorage {size} MB is over Lambda's {LambdaMaxEphemeralStorageMb} MB limit");
    }

    public static TheoryData<string> Budgets()
    {
        var data = new TheoryData<string>();
        foreach (var budget in (JsonArray)Template.Parameters["DbConnectionBudget"]!["AllowedValues"]!)
        {
            data.Add((string)budget!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Budgets))]
    public void Every_connection_budget_runs_as_many_batches_at_once_as_there_are_targets_without_throttling_a_step(string budget)
    {
        var row = Template.Root["Mappings"]?["ConnectionBudget"]?[budget] as JsonObject
            ?? throw new Xunit.Sdk.XunitException($"the ConnectionBudget mapping has no row for the allowed budget {budget}");
        var batches = Int(row["ConcurrentBatches"], $"ConnectionBudget[{budget}].ConcurrentBatches");
        var targets = Directory.GetFiles(Repo.PathOf("targets"), "*.json").Length;
        Assert.True(targets > 0, "targets/ holds no contract");

        // Budget, not serialisation: a scheduled morning produces one batch per dataset, all at about the same time.
        Assert.True(batches >= Math.Max(2, targets),
            $"budget {budget} plans for {batches} batch(es) at once; targets/ has {targets} datasets whose batches arrive together");

        var perExecution = AslDefinition.ConcurrentInvocationsPerExecution(Machine);
        var writers = Functions.Where(f => f.Properties["ReservedConcurrentExecutions"] is not null).ToList();
        var databaseFunctions = Functions.Where(f => f.Properties["Environment"]?["Variables"]?["WRITEBACK_DB_HOST"] is not null).ToList();
        Assert.Equal(databaseFunctions.Select(f => f.Name).Order(), writers.Select(f => f.Name).Order());

        var total = 0;
        foreach (var (name, properties) in writers)
        {
            var lookup = properties["ReservedConcurrentExecutions"]!["Fn::FindInMap"] as JsonArray
                ?? throw new Xunit.Sdk.XunitException($"{name}: ReservedConcurrentExecutions is not a ConnectionBudget lookup");
            Assert.Equal("ConnectionBudget", (string?)lookup[0]);
            Assert.Equal("DbConnectionBudget", (string?)lookup[1]?["Ref"]);
            var reserved = Int(row[(string)lookup[2]!], $"ConnectionBudget[{budget}].{lookup[2]}");
            Assert.True(reserved >= 1, $"budget {budget}: {name} may never run");
            total += reserved;

            var substitution = Substitutions.FirstOrDefault(s => CfnTemplate.ReferencedResource(s.Value) == name).Key;
            if (substitution is not null && perExecution.TryGetValue(substitution, out var inFlight))
            {
                Assert.True(inFlight != int.MaxValue, $"{name} is invoked from a Map without MaxConcurrency: no budget can hold it");
                Assert.True(reserved >= batches * inFlight,
                    $"budget {budget}: {name} may run {reserved} at once, but {batches} batches with up to {inFlight} in flight each need {batches * inFlight}");
            }
        }

        Assert.True(perExecution.ContainsKey("LoadShardFunctionArn"), "the state machine no longer invokes LoadShard; this check would prove nothing");
        Assert.True(total <= int.Parse(budget, System.Globalization.CultureInfo.InvariantCulture),
            $"budget {budget}: the writers may hold {total} connections (one per instance)");
    }
}
