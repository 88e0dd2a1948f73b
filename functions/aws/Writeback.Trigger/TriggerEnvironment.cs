using Writeback.Core.Storage;
using Writeback.Trigger.Events;

namespace Writeback.Trigger;

/// <summary>
/// The deployed trigger's configuration, read once from its environment; every variable it reads is named here.
/// Sources are always cloud sources: no variable makes the deployed trigger accept files or plain http.
/// </summary>
public sealed record TriggerEnvironment
{
    /// <summary>The audience the push subscription puts in its tokens (template.yaml: PushAudience).</summary>
    public const string AudienceVariable = "WRITEBACK_TRIGGER_AUDIENCE";

    /// <summary>The only service account whose push tokens are accepted.</summary>
    public const string PushServiceAccountVariable = "WRITEBACK_PUSH_SERVICE_ACCOUNT";

    public const string StateMachineArnVariable = "WRITEBACK_STATE_MACHINE_ARN";

    /// <summary>Set by Lambda in every function.</summary>
    public const string RegionVariable = "AWS_REGION";

    /// <summary>Comma-separated dataset names; when unset, the datasets of the target contracts in <see cref="TargetsVariable"/>.</summary>
    public const string DatasetsVariable = "WRITEBACK_DATASETS";

    /// <summary>The target contracts folder; default: <c>targets</c> next to the binary (the artifact carries it).</summary>
    public const string TargetsVariable = "WRITEBACK_TARGETS";

    public required string Audience { get; init; }

    public required string PushServiceAccountEmail { get; init; }

    public required string StateMachineArn { get; init; }

    public required string Region { get; init; }

    public required KnownDatasets Datasets { get; init; }

    /// <summary>From <see cref="SourceEnvironment.BucketVariable"/> and <see cref="SourceEnvironment.PrefixVariable"/>.</summary>
    public required SourcePolicy Sources { get; init; }

    public static TriggerEnvironment Read(Func<string, string?> get, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(get);
        string Required(string name) => get(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set; the trigger cannot start without it.");

        return new TriggerEnvironment
        {
            Audience = Required(AudienceVariable),
            PushServiceAccountEmail = Required(PushServiceAccountVariable),
            StateMachineArn = Required(StateMachineArnVariable),
            Region = Required(RegionVariable),
            Datasets = get(DatasetsVariable) is { Length: > 0 } list
                ? KnownDatasets.Of(list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                : KnownDatasets.FromTargetsDirectory(get(TargetsVariable) is { Length: > 0 } dir ? dir : Path.Combine(baseDirectory, "targets")),
            Sources = SourceEnvironment.Cloud(get),
        };
    }
}
