namespace Writeback.Slo;

/// <summary>Where a dataset stands against "the batch for each business date is applied by its deadline".</summary>
public enum SloState
{
    /// <summary>Nothing due yet, or a batch is running and expected in time.</summary>
    OnTime,

    /// <summary>No batch has arrived or started by the deadline minus the lead time.</summary>
    AtRisk,

    /// <summary>A batch is running, and the remaining steps' typical durations would cross the deadline.</summary>
    PredictedLate,

    /// <summary>The deadline passed and the business date's batch is not applied.</summary>
    Late,

    /// <summary>The business date's latest batch failed.</summary>
    Failed,

    /// <summary>The business date's batch is applied.</summary>
    Met,
}

public static class SloStates
{
    public static string Name(this SloState state) => state switch
    {
        SloState.OnTime => "on-time",
        SloState.AtRisk => "at-risk",
        SloState.PredictedLate => "predicted-late",
        SloState.Late => "late",
        SloState.Failed => "failed",
        SloState.Met => "met",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static SloState Parse(string name) => name switch
    {
        "on-time" => SloState.OnTime,
        "at-risk" => SloState.AtRisk,
        "predicted-late" => SloState.PredictedLate,
        "late" => SloState.Late,
        "failed" => SloState.Failed,
        "met" => SloState.Met,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not an SLO state"),
    };

    /// <summary>The states someone should hear about.</summary>
    public static bool NeedsAttention(this SloState state) => state is SloState.AtRisk or SloState.PredictedLate or SloState.Late or SloState.Failed;
}

public sealed record SloOptions
{
    public const string LeadTimeVariable = "WRITEBACK_SLO_LEAD_MINUTES";

    /// <summary>A delay alert fires when no batch has arrived or started this long before the deadline.</summary>
    public TimeSpan LeadTime { get; init; } = TimeSpan.FromHours(2);

    /// <summary>Typical step durations are the median over this many recent successful runs.</summary>
    public int TypicalRuns { get; init; } = 10;

    /// <summary>
    /// The deadline of business date D falls on D + this many days at the contract's time: daily aggregates of
    /// yesterday are due this morning.
    /// </summary>
    public int DeadlineDaysAfterBusinessDate { get; init; } = 1;

    public const string StuckAfterVariable = "WRITEBACK_STUCK_AFTER_MINUTES";

    /// <summary>
    /// A batch prepared or verified longer than this is stuck (its execution ended without cleanup) and is failed by
    /// the check. Must exceed the state machine's TimeoutSeconds, or a live execution could be cut off.
    /// </summary>
    public TimeSpan StuckAfter { get; init; } = Core.Ledger.StuckBatchSweeper.DefaultStuckAfter;

    public static SloOptions FromEnvironment(Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        var options = new SloOptions();
        if (Minutes(get(LeadTimeVariable)) is { } lead)
        {
            options = options with { LeadTime = lead };
        }

        if (Minutes(get(StuckAfterVariable)) is { } stuck && stuck > TimeSpan.Zero)
        {
            options = options with { StuckAfter = stuck };
        }

        return options;
    }

    private static TimeSpan? Minutes(string? text) =>
        int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var minutes) && minutes >= 0
            ? TimeSpan.FromMinutes(minutes)
            : null;
}

/// <summary>One dataset's SLO state at one moment, with what it is about.</summary>
public sealed record SloEvaluation
{
    public required string Dataset { get; init; }

    public required SloState State { get; init; }

    /// <summary>The business date the state is about.</summary>
    public required DateOnly BusinessDate { get; init; }

    public required DateTimeOffset Deadline { get; init; }

    /// <summary>The IANA zone of the deadline, for messages that speak the team's local time.</summary>
    public required string TimeZone { get; init; }

    public required DateTimeOffset EvaluatedAt { get; init; }

    /// <summary>The batch the state is about, when there is one.</summary>
    public string? BatchId { get; init; }

    public string? TraceId { get; init; }

    public DateTimeOffset? AppliedAt { get; init; }

    public DateTimeOffset? PredictedEnd { get; init; }

    public string? Error { get; init; }

    public string? Cause { get; init; }

    /// <summary>One human sentence on why.</summary>
    public required string Detail { get; init; }
}
