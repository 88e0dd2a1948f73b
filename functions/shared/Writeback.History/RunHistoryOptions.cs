namespace Writeback.History;

public sealed record RunHistoryOptions
{
    public const string RetentionVariable = "WRITEBACK_HISTORY_RETENTION_DAYS";

    /// <summary>How long finished runs, steps and alerts are kept; the SLO check purges older ones.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(30);

    public static RunHistoryOptions FromEnvironment(Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        var text = get(RetentionVariable);
        return int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var days) && days > 0
            ? new RunHistoryOptions { Retention = TimeSpan.FromDays(days) }
            : new RunHistoryOptions();
    }
}
