namespace Writeback.StepFunctions;

/// <summary>How an engine runs: clock, Lambda binding, seeded randomness and the service's limits.</summary>
public sealed class StepFunctionsEngineOptions
{
    /// <summary>Timestamps, Wait states, retry intervals and timeouts; a <see cref="VirtualClock"/> makes them instant.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where Lambda Tasks go; unmocked Lambda Tasks fail with Lambda.ResourceNotFoundException without one.</summary>
    public ILambdaInvoker? LambdaInvoker { get; init; }

    /// <summary>Seeds retry jitter, States.MathRandom and States.UUID so runs repeat; null for a random seed.</summary>
    public int? RandomSeed { get; init; }

    /// <summary>The service's cap on a state's input or output, and on the execution's input: 256 KiB of UTF-8.</summary>
    public int PayloadLimitBytes { get; init; } = 256 * 1024;

    /// <summary>The inline Map runs at most this many iterations at once whatever MaxConcurrency says.</summary>
    public int InlineMapConcurrencyCap { get; init; } = 40;

    /// <summary>A Standard execution fails once its history would exceed this many events.</summary>
    public int MaxHistoryEvents { get; init; } = 25_000;

    /// <summary>Whether events carry the states' input and output (the service's default, unless data is excluded).</summary>
    public bool IncludeExecutionData { get; init; } = true;

    public string Region { get; init; } = "us-east-1";

    public string AccountId { get; init; } = "000000000000";

    /// <summary>
    /// The folder standing in for S3 for a Distributed Map's ItemReader and ResultWriter: bucket = subfolder, so
    /// <c>s3://bucket/key</c> is <c>LocalS3Root/bucket/key</c>. Null: a Distributed Map that reads or writes S3 fails.
    /// </summary>
    public string? LocalS3Root { get; init; }

    /// <summary>Where executions are kept beyond the process; null keeps them only as long as the engine lives.</summary>
    public IExecutionJournal? Journal { get; init; }
}
