using System.Globalization;
using Writeback.Core.Contracts;

namespace Writeback.Slo;

/// <summary>
/// A contract's deadline as instants: business date D is due at (D + offset days) HH:mm in the contract's IANA zone,
/// whatever the machine's zone, across daylight-saving changes.
/// </summary>
public sealed class DeadlineCalendar
{
    private readonly TimeOnly _time;
    private readonly int _daysAfter;

    public DeadlineCalendar(Deadline deadline, int daysAfterBusinessDate = 1)
    {
        ArgumentNullException.ThrowIfNull(deadline);
        if (!TimeOnly.TryParseExact(deadline.Time, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out _time))
        {
            throw new ArgumentException($"deadline time '{deadline.Time}' is not HH:mm.", nameof(deadline));
        }

        Zone = TimeZoneInfo.FindSystemTimeZoneById(deadline.TimeZone);
        ZoneId = deadline.TimeZone;
        _daysAfter = daysAfterBusinessDate;
    }

    public TimeZoneInfo Zone { get; }

    public string ZoneId { get; }

    public DateTimeOffset DeadlineFor(DateOnly businessDate)
    {
        var local = businessDate.AddDays(_daysAfter).ToDateTime(_time, DateTimeKind.Unspecified);
        // A deadline inside a spring-forward gap does not exist: it falls when the clocks resume.
        while (Zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(30);
        }

        return new DateTimeOffset(local, Zone.GetUtcOffset(local)).ToUniversalTime();
    }

    /// <summary>The business date whose deadline is the latest one at or before <paramref name="now"/>.</summary>
    public DateOnly LatestDue(DateTimeOffset now)
    {
        var date = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, Zone).DateTime).AddDays(-_daysAfter + 1);
        while (DeadlineFor(date) > now)
        {
            date = date.AddDays(-1);
        }

        return date;
    }

    /// <summary>The business date a run belongs to when its partition does not say: the first deadline at or after it.</summary>
    public DateOnly CycleOf(DateTimeOffset at) => LatestDue(at) is var due && DeadlineFor(due) == at ? due : LatestDue(at).AddDays(1);

    public string Local(DateTimeOffset at) =>
        TimeZoneInfo.ConvertTime(at, Zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " " + ZoneId;
}
