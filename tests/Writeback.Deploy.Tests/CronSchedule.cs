using System.Globalization;

namespace Writeback.Deploy.Tests;

/// <summary>
/// The five-field unix-cron form Cloud Scheduler takes (<c>minute hour day-of-month month day-of-week</c>), evaluated
/// in an IANA time zone, so a test can say when a schedule fires instead of trusting a comment. Fields accept
/// <c>*</c>, numbers, ranges <c>a-b</c>, steps <c>*/n</c>, <c>a-b/n</c> and <c>a/n</c>, lists, month and weekday
/// names (<c>JAN</c>, <c>MON</c>) and 7 for Sunday. As in cron, when both day fields are restricted a day matching
/// either fires. Local times a DST change skips are skipped; a repeated hour fires once.
/// </summary>
internal sealed class CronSchedule
{
    private static readonly string[] Months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] Weekdays = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private readonly bool[] _minutes;
    private readonly bool[] _hours;
    private readonly bool[] _daysOfMonth;
    private readonly bool[] _months;
    private readonly bool[] _daysOfWeek;
    private readonly bool _dayOfMonthRestricted;
    private readonly bool _dayOfWeekRestricted;

    private CronSchedule(string expression)
    {
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            throw new FormatException($"'{expression}' has {fields.Length} fields; cron has five (minute hour day-of-month month day-of-week).");
        }

        _minutes = Field(fields[0], 0, 59, null, "minute");
        _hours = Field(fields[1], 0, 23, null, "hour");
        _daysOfMonth = Field(fields[2], 1, 31, null, "day of month");
        _months = Field(fields[3], 1, 12, Months, "month");
        // 0-7 with both 0 and 7 meaning Sunday; folded into 0-6 below.
        var weekdays = Field(fields[4], 0, 7, Weekdays, "day of week");
        weekdays[0] |= weekdays[7];
        _daysOfWeek = weekdays[..7];
        _dayOfMonthRestricted = !fields[2].StartsWith('*');
        _dayOfWeekRestricted = !fields[4].StartsWith('*');
        Expression = expression;
    }

    public string Expression { get; }

    public static CronSchedule Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        return new CronSchedule(expression.Trim());
    }

    /// <summary>The first time strictly after <paramref name="after"/> the schedule fires, or null if none within a search horizon.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after, TimeZoneInfo zone, int horizonDays = 5 * 366)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = TimeZoneInfo.ConvertTime(after, zone);
        var day = DateOnly.FromDateTime(local.DateTime);
        for (var i = 0; i <= horizonDays; i++, day = day.AddDays(1))
        {
            if (!MatchesDay(day))
            {
                continue;
            }

            for (var hour = 0; hour < 24; hour++)
            {
                if (!_hours[hour])
                {
                    continue;
                }

                for (var minute = 0; minute < 60; minute++)
                {
                    if (!_minutes[minute])
                    {
                        continue;
                    }

                    var wall = day.ToDateTime(new TimeOnly(hour, minute), DateTimeKind.Unspecified);
                    if (zone.IsInvalidTime(wall))
                    {
                        continue;
                    }

                    // For a repeated (ambiguous) hour, the first occurrence: the larger offset.
                    var offset = zone.IsAmbiguousTime(wall) ? zone.GetAmbiguousTimeOffsets(wall).Max() : zone.GetUtcOffset(wall);
                    var at = new DateTimeOffset(wall, offset);
                    if (at > after)
                    {
                        return at;
                    }
                }
            }
        }

        return null;
    }

    private bool MatchesDay(DateOnly day)
    {
        if (!_months[day.Month])
        {
            return false;
        }

        var dom = _daysOfMonth[day.Day];
        var dow = _daysOfWeek[(int)day.DayOfWeek];
        return _dayOfMonthRestricted && _dayOfWeekRestricted ? dom || dow : dom && dow;
    }

    private static bool[] Field(string text, int min, int max, string[]? names, string what)
    {
        var allowed = new bool[max + 1];
        foreach (var part in text.Split(','))
        {
            var (range, step) = part.Split('/') switch
            {
                [var r] => (r, 1),
                [var r, var s] when int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 => (r, n),
                _ => throw new FormatException($"{what} '{part}' has a bad step"),
            };
            int from, to;
            if (range == "*")
            {
                (from, to) = (min, max);
            }
            else if (range.Split('-') is [var a, var b])
            {
                (from, to) = (Value(a, min, max, names, what), Value(b, min, max, names, what));
            }
            else
            {
                from = Value(range, min, max, names, what);
                // "a/n" runs from a to the end of the field; a bare "a" is just a.
                to = part.Contains('/', StringComparison.Ordinal) ? max : from;
            }

            if (from > to)
            {
                throw new FormatException($"{what} range '{range}' runs backwards");
            }

            for (var v = from; v <= to; v += step)
            {
                allowed[v] = true;
            }
        }

        return allowed;
    }

    private static int Value(string text, int min, int max, string[]? names, string what)
    {
        if (names is not null)
        {
            var index = Array.FindIndex(names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                // Months are 1-based, weekdays 0-based (SUN = 0).
                return index + min;
            }
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new FormatException($"{what} '{text}' is not in {min}-{max}");
    }
}
