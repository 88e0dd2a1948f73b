using System.Text.Json.Serialization;

namespace Writeback.Steps.Contract;

/// <summary>Prepare's verdict on a batch (<c>action</c>); the state machine's Route state branches on these wire names.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<StepAction>))]
public enum StepAction
{
    /// <summary>Load the shards, verify, publish.</summary>
    [JsonStringEnumMemberName("load")] Load,

    /// <summary>A newer batch already covers this target and partition; it ends here.</summary>
    [JsonStringEnumMemberName("skip")] Skip,

    /// <summary>This batch (or one with the same content) was applied already; it ends here.</summary>
    [JsonStringEnumMemberName("applied")] Applied,
}

/// <summary>What LoadShard did with its shard (<c>status</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ShardStatus>))]
public enum ShardStatus
{
    [JsonStringEnumMemberName("loaded")] Loaded,

    /// <summary>The shard ledger already held it: a retry or a redelivery.</summary>
    [JsonStringEnumMemberName("already_loaded")] AlreadyLoaded,
}

/// <summary>What Publish did with the batch (<c>status</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PublishVerdict>))]
public enum PublishVerdict
{
    [JsonStringEnumMemberName("applied")] Applied,

    [JsonStringEnumMemberName("already_applied")] AlreadyApplied,

    /// <summary>Older than the batch applied to its target and partition.</summary>
    [JsonStringEnumMemberName("skipped")] Skipped,

    /// <summary>A dry run that a real run would apply; a dry run reports the other verdicts as they are.</summary>
    [JsonStringEnumMemberName("dry_run")] DryRun,
}
