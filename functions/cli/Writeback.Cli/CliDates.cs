using System.Globalization;
using Writeback.Cli.Local;
using Writeback.Core.Contracts;
using Writeback.Slo;

namespace Writeback.Cli;

/// <summary>The business date a command works on: the one given, or the one the SLO check expects now.</summary>
internal static class CliDates
{
    /// <summary>
    /// Without --date: yesterday in the time zone of the dataset's deadline, which is the day its SLO is waiting for or
    /// judging. Yesterday in UTC is another day for half of every Tokyo morning.
    /// </summary>
    public static bool TryParseBusinessDate(string? text, string dataset, DateTimeOffset now, out DateOnly date, out string error)
    {
        error = "";
        if (string.IsNullOrEmpty(text))
        {
            date = Yesterday(dataset, now, out _);
            return true;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date))
        {
            return true;
        }

        error = $"--date must be a date like 2026-11-25, not '{text}'.";
        return false;
    }

    /// <summary>Yesterday where the dataset's deadline is kept (UTC for a dataset without one), and that zone's id.</summary>
    public static DateOnly Yesterday(string dataset, DateTimeOffset now, out string zone)
    {
        var deadline = DeadlineOf(dataset);
        var timeZone = deadline is null ? TimeZoneInfo.Utc : new DeadlineCalendar(deadline).Zone;
        zone = deadline?.TimeZone ?? "UTC";
        return DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, timeZone).DateTime).AddDays(-1);
    }

    /// <summary>The deadline targets/ declares for the dataset, or null when it declares none (or no such target).</summary>
    public static Deadline? DeadlineOf(string dataset) =>
        SloTarget.From(TargetCatalog.FromDirectory(ProjectPaths.Targets)).FirstOrDefault(t => t.Dataset == dataset)?.Deadline;

    /// <summary>Whether a batch of <paramref name="date"/> that finished at <paramref name="finished"/> met its deadline, in words.</summary>
    public static string Verdict(Deadline deadline, DateOnly date, DateTimeOffset finished)
    {
        ArgumentNullException.ThrowIfNull(deadline);
        var calendar = new DeadlineCalendar(deadline);
        var due = calendar.DeadlineFor(date);
        var margin = due - finished;
        return margin >= TimeSpan.Zero
            ? $"met: finished {calendar.Local(finished)}, {Span(margin)} before its deadline {calendar.Local(due)}"
            : $"LATE: finished {calendar.Local(finished)}, {Span(-margin)} after its deadline {calendar.Local(due)}";
    }

    private static string Span(TimeSpan t) => t switch
    {
        { TotalDays: >= 2 } => $"{(int)t.TotalDays} days {t.Hours} h",
        { TotalHours: >= 1 } => $"{(int)t.TotalHours} h {t.Minutes} min",
        { TotalMinutes: >= 1 } => $"{(int)t.TotalMinutes} min",
        _ => $"{(int)t.TotalSeconds} s",
    };
}
