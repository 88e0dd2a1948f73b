using System.Globalization;
using System.Text.RegularExpressions;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>$toMillis with a picture: a regex per picture component, then the date rebuilt from the parts found.</summary>
internal static partial class Pictures
{
    private sealed record Matcher(string Regex, Func<string, double?>? Parse, char Component);

    private static Matcher IntegerMatcher(IntegerFormat format, int parseWidth, char component)
    {
        var upper = format.Case == Case.Upper;
        switch (format.Primary)
        {
            case Primary.Letters:
                return new(upper ? "[A-Z]+" : "[a-z]+", v => FromLetters(v, upper ? 'A' : 'a'), component);
            case Primary.Roman:
                return new(upper ? "[MDCLXVI]+" : "[mdclxvi]+", v => FromRoman(upper ? v : v.ToUpperInvariant()), component);
            case Primary.Words:
                return new("(?:" + string.Join('|', WordValues.Keys.Append("and").Append("[\\-, ]")) + ")+", v => WordsToNumber(v.ToLowerInvariant()), component);
            case Primary.Decimal:
                var regex = "[0-9]" + (parseWidth > 0 ? "{" + parseWidth.ToString(CultureInfo.InvariantCulture) + "}" : "+") + (format.Ordinal ? "(?:th|st|nd|rd)" : "");
                return new(regex, v => ParseInteger(v, format), component);
            default:
                throw new JsonataException("D3130", value: format.Token);
        }
    }

    public static double? ParseDateTime(string timestamp, string picture, DateTimeOffset now)
    {
        var spec = AnalyseDateTime(picture);
        var matchers = new List<Matcher>();
        for (var i = 0; i < spec.Count; i++)
        {
            var part = spec[i];
            // A number directly followed by another number can only be split by its width.
            var width = part.Integer is not null && i + 1 < spec.Count && spec[i + 1].Integer is not null && spec[i + 1].Literal is null ? part.Integer.MandatoryDigits : 0;
            matchers.Add(part switch
            {
                { Literal: { } literal } => new Matcher(Regex.Escape(literal), null, ' '),
                { Component: 'Z' or 'z' } => OffsetMatcher(part),
                { Component: 'f' } => new Matcher("[0-9]+", v => double.Parse("0." + v[..Math.Min(3, v.Length)], CultureInfo.InvariantCulture) * 1000, 'f'),
                { Integer: { } format } => IntegerMatcher(format, width, part.Component),
                _ => NameMatcher(part),
            });
        }

        var full = "^" + string.Concat(matchers.Select(m => "(" + m.Regex + ")")) + "$";
        var match = Regex.Match(timestamp, full, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5));
        if (!match.Success)
        {
            return null;
        }

        var components = new Dictionary<char, double>();
        for (var i = 0; i < matchers.Count; i++)
        {
            if (matchers[i].Parse is { } parse && parse(match.Groups[i + 1].Value) is { } v)
            {
                components[matchers[i].Component] = v;
            }
        }

        if (components.Count == 0)
        {
            return null;
        }

        int Mask(string parts) => parts.Aggregate(0, (mask, c) => (mask << 1) + (components.ContainsKey(c) ? 1 : 0));
        static bool IsType(int type, int mask) => (~type & mask) == 0 && (type & mask) != 0;
        var dateMask = Mask("YXMxWwdD");
        var dateA = IsType(161, dateMask);
        var dateB = !dateA && IsType(130, dateMask);
        var dateC = IsType(84, dateMask);
        var dateD = !dateC && IsType(72, dateMask);
        var timeMask = Mask("PHhmsf");
        var timeA = IsType(23, timeMask);
        var timeB = !timeA && IsType(47, timeMask);
        var comps = (dateB ? "YD" : dateC ? "XxwF" : dateD ? "XWF" : "YMD") + (timeB ? "Phmsf" : "Hmsf");
        bool startSpecified = false, endSpecified = false;
        foreach (var part in comps)
        {
            if (!components.ContainsKey(part))
            {
                if (startSpecified)
                {
                    components[part] = "MDd".Contains(part, StringComparison.Ordinal) ? 1 : 0;
                    endSpecified = true;
                }
                else
                {
                    components[part] = part switch
                    {
                        'P' => now.UtcDateTime.Hour >= 12 ? 1 : 0,
                        'f' => now.UtcDateTime.Millisecond,
                        _ => Fragment(now.UtcDateTime, part),
                    };
                }
            }
            else
            {
                startSpecified = true;
                if (endSpecified)
                {
                    throw new JsonataException("D3136");
                }
            }
        }

        var month = components.GetValueOrDefault('M') > 0 ? components['M'] - 1 : 0;
        var day = components.GetValueOrDefault('D', 1);
        if (dateB)
        {
            var derived = new DateTime((int)components['Y'], 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(components['d'] - 1);
            month = derived.Month - 1;
            day = derived.Day;
        }

        if (dateC || dateD)
        {
            throw new JsonataException("D3136");
        }

        var hour = components.GetValueOrDefault('H');
        if (timeB)
        {
            hour = components['h'] == 12 ? 0 : components['h'];
            if (components.GetValueOrDefault('P') == 1)
            {
                hour += 12;
            }
        }

        // Date.UTC semantics: out-of-range parts roll over rather than fail.
        var millis = new DateTime((int)components['Y'], 1, 1, 0, 0, 0, DateTimeKind.Utc)
            .AddMonths((int)month).AddDays(day - 1).AddHours(hour).AddMinutes(components.GetValueOrDefault('m'))
            .AddSeconds(components.GetValueOrDefault('s')).AddMilliseconds(components.GetValueOrDefault('f'));
        var result = (double)new DateTimeOffset(millis).ToUnixTimeMilliseconds();
        var offset = components.GetValueOrDefault('Z', components.GetValueOrDefault('z'));
        return result - (offset * 60 * 1000);
    }

    private static Matcher OffsetMatcher(Marker part)
    {
        var separator = part.Integer!.Regular ? part.Integer.Separators[0].Character : null;
        var regex = (part.Component == 'z' ? "GMT" : "") + "[-+][0-9]+" + (separator is null ? "" : Regex.Escape(separator) + "[0-9]+");
        return new Matcher(regex, value =>
        {
            if (part.Component == 'z')
            {
                value = value[3..];
            }

            double hours, minutes = 0;
            if (separator is not null)
            {
                var at = value.IndexOf(separator, StringComparison.Ordinal);
                hours = int.Parse(value[..at], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                minutes = int.Parse(value[(at + separator.Length)..], CultureInfo.InvariantCulture);
            }
            else if (value.Length - 1 <= 2)
            {
                hours = int.Parse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            }
            else
            {
                hours = int.Parse(value[..3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                minutes = int.Parse(value[3..], CultureInfo.InvariantCulture);
            }

            return (hours * 60) + minutes;
        }, part.Component);
    }

    private static Matcher NameMatcher(Marker part)
    {
        var lookup = new Dictionary<string, double>(StringComparer.OrdinalIgnoreCase);
        string Cut(string name) => part.Width?.Max is { } max && max < name.Length ? name[..max] : name;
        switch (part.Component)
        {
            case 'M' or 'x':
                for (var i = 0; i < MonthNames.Length; i++)
                {
                    lookup[Cut(MonthNames[i])] = i + 1;
                }

                break;
            case 'F':
                for (var i = 1; i < DayNames.Length; i++)
                {
                    lookup[Cut(DayNames[i])] = i;
                }

                break;
            case 'P':
                lookup["am"] = 0;
                lookup["pm"] = 1;
                break;
            default:
                throw new JsonataException("D3133", value: part.Component.ToString());
        }

        return new Matcher("[a-zA-Z]+", v => lookup.TryGetValue(v, out var n) ? n : null, part.Component);
    }
}
