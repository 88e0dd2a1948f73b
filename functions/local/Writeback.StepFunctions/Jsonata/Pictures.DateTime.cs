using System.Globalization;
using System.Text;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>Date/time pictures ("[Y0001]-[M01]-[D01]", "[FNn], [D1o] [MNn]") for $fromMillis and $now.</summary>
internal static partial class Pictures
{
    private sealed class Marker
    {
        public string? Literal { get; init; }

        public char Component { get; init; }

        public string Presentation1 { get; set; } = "";

        public char? Presentation2 { get; set; }

        public (int? Min, int? Max)? Width { get; set; }

        public Case? Names { get; set; }

        public IntegerFormat? Integer { get; set; }

        public int YearDigits { get; set; } = -1;
    }

    private static readonly string[] DayNames = ["", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

    private static readonly string[] MonthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    private static readonly Dictionary<char, string> DefaultPresentation = new()
    {
        ['Y'] = "1", ['M'] = "1", ['D'] = "1", ['d'] = "1", ['F'] = "n", ['W'] = "1", ['w'] = "1", ['X'] = "1", ['x'] = "1", ['H'] = "1",
        ['h'] = "1", ['P'] = "n", ['m'] = "01", ['s'] = "01", ['f'] = "1", ['Z'] = "01:01", ['z'] = "01:01", ['C'] = "n", ['E'] = "n",
    };

    private static List<Marker> AnalyseDateTime(string picture)
    {
        var spec = new List<Marker>();
        void Literal(int start, int end)
        {
            if (end > start)
            {
                spec.Add(new Marker { Literal = picture[start..end].Replace("]]", "]", StringComparison.Ordinal) });
            }
        }

        int start = 0, pos = 0;
        while (pos < picture.Length)
        {
            if (picture[pos] == '[')
            {
                if (pos + 1 < picture.Length && picture[pos + 1] == '[')
                {
                    Literal(start, pos);
                    spec.Add(new Marker { Literal = "[" });
                    pos += 2;
                    start = pos;
                    continue;
                }

                Literal(start, pos);
                start = pos;
                pos = picture.IndexOf(']', start);
                if (pos < 0)
                {
                    throw new JsonataException("D3135");
                }

                var marker = string.Concat(picture[(start + 1)..pos].Where(c => !char.IsWhiteSpace(c)));
                var def = new Marker { Component = marker.Length > 0 ? marker[0] : ' ' };
                var comma = marker.LastIndexOf(',');
                string presentation;
                if (comma >= 0)
                {
                    var widthMod = marker[(comma + 1)..];
                    var dash = widthMod.IndexOf('-', StringComparison.Ordinal);
                    static int? Width(string? w) => w is null || w == "*" ? null : int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
                    def.Width = dash < 0 ? (Width(widthMod), null) : (Width(widthMod[..dash]), Width(widthMod[(dash + 1)..]));
                    presentation = marker[1..comma];
                }
                else
                {
                    presentation = marker.Length > 1 ? marker[1..] : "";
                }

                if (presentation.Length == 1)
                {
                    def.Presentation1 = presentation;
                }
                else if (presentation.Length > 1)
                {
                    var last = presentation[^1];
                    if ("atco".Contains(last, StringComparison.Ordinal))
                    {
                        def.Presentation2 = last;
                        def.Presentation1 = presentation[..^1];
                    }
                    else
                    {
                        def.Presentation1 = presentation;
                    }
                }
                else
                {
                    def.Presentation1 = DefaultPresentation.TryGetValue(def.Component, out var p) ? p : throw new JsonataException("D3132", value: def.Component.ToString());
                }

                if (def.Presentation1[0] == 'n')
                {
                    def.Names = Case.Lower;
                }
                else if (def.Presentation1[0] == 'N')
                {
                    def.Names = def.Presentation1.Length > 1 && def.Presentation1[1] == 'n' ? Case.Title : Case.Upper;
                }
                else if ("YMDdFWwXxHhmsf".Contains(def.Component, StringComparison.Ordinal))
                {
                    var pattern = def.Presentation1 + (def.Presentation2 is { } p2 ? ";" + p2 : "");
                    def.Integer = Analyse(pattern);
                    if (def.Width?.Min is { } min && def.Integer.MandatoryDigits < min)
                    {
                        def.Integer.MandatoryDigits = min;
                    }

                    if (def.Component == 'Y')
                    {
                        if (def.Width?.Max is { } max)
                        {
                            def.YearDigits = max;
                            def.Integer.MandatoryDigits = max;
                        }
                        else if (def.Integer.MandatoryDigits + def.Integer.OptionalDigits >= 2)
                        {
                            def.YearDigits = def.Integer.MandatoryDigits + def.Integer.OptionalDigits;
                        }
                    }
                }

                if (def.Component is 'Z' or 'z')
                {
                    def.Integer = Analyse(def.Presentation1);
                }

                spec.Add(def);
                start = pos + 1;
            }

            pos++;
        }

        Literal(start, pos);
        return spec;
    }

    public static string FormatDateTime(long millis, string? picture, string? timezone)
    {
        var offsetHours = 0;
        var offsetMinutes = 0;
        if (timezone is not null && int.TryParse(timezone, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var offset))
        {
            offsetHours = offset / 100;
            offsetMinutes = offset % 100;
        }

        var spec = AnalyseDateTime(picture ?? "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]");
        var date = DateTimeOffset.FromUnixTimeMilliseconds(millis + ((((60L * offsetHours) + offsetMinutes) * 60) * 1000)).UtcDateTime;
        var sb = new StringBuilder();
        foreach (var part in spec)
        {
            sb.Append(part.Literal ?? FormatComponent(date, part, offsetHours, offsetMinutes));
        }

        return sb.ToString();
    }

    private static string FormatComponent(DateTime date, Marker marker, int offsetHours, int offsetMinutes)
    {
        var c = marker.Component;
        if ("YMDdFWwXxHhms".Contains(c, StringComparison.Ordinal))
        {
            double value = Fragment(date, c);
            if (c == 'Y' && marker.YearDigits != -1)
            {
                value %= Math.Pow(10, marker.YearDigits);
            }

            if (marker.Names is { } names)
            {
                var name = c is 'M' or 'x' ? MonthNames[(int)value - 1] : c == 'F' ? DayNames[(int)value] : throw new JsonataException("D3133", value: c.ToString());
                name = names switch { Case.Upper => name.ToUpperInvariant(), Case.Lower => name.ToLowerInvariant(), _ => name };
                if (marker.Width?.Max is { } max && name.Length > max)
                {
                    name = name[..max];
                }

                return name;
            }

            return FormatInteger(value, marker.Integer!);
        }

        switch (c)
        {
            case 'f':
                return FormatInteger(date.Millisecond, marker.Integer!);
            case 'Z' or 'z':
                var offset = (offsetHours * 100) + offsetMinutes;
                string text;
                if (marker.Integer!.Regular)
                {
                    text = FormatInteger(offset, marker.Integer);
                }
                else
                {
                    var digits = marker.Integer.MandatoryDigits;
                    if (digits is 1 or 2)
                    {
                        text = FormatInteger(offsetHours, marker.Integer);
                        if (offsetMinutes != 0)
                        {
                            text += ":" + FormatInteger(offsetMinutes, Analyse("00"));
                        }
                    }
                    else if (digits is 3 or 4)
                    {
                        text = FormatInteger(offset, marker.Integer);
                    }
                    else
                    {
                        throw new JsonataException("D3134", value: (double)digits);
                    }
                }

                if (offset >= 0)
                {
                    text = "+" + text;
                }

                if (c == 'z')
                {
                    text = "GMT" + text;
                }

                return offset == 0 && marker.Presentation2 == 't' ? "Z" : text;
            case 'P':
                var ampm = date.Hour >= 12 ? "pm" : "am";
                return marker.Names == Case.Upper ? ampm.ToUpperInvariant() : ampm;
            case 'C' or 'E':
                return "ISO";
            default:
                throw new JsonataException("D3132", value: c.ToString());
        }
    }

    private static DateTime StartOfFirstWeek(int year, int month)
    {
        var first = new DateTime(year, month, 1, 0, 0, 0, DateTimeKind.Utc);
        var day = (int)first.DayOfWeek;
        if (day == 0)
        {
            day = 7;
        }

        return day > 4 ? first.AddDays(8 - day) : first.AddDays(-(day - 1));
    }

    private static (int Year, int Month) NextMonth(int y, int m) => m == 12 ? (y + 1, 1) : (y, m + 1);

    private static (int Year, int Month) PreviousMonth(int y, int m) => m == 1 ? (y - 1, 12) : (y, m - 1);

    private static int Fragment(DateTime date, char component)
    {
        var today = date.Date;
        switch (component)
        {
            case 'Y':
                return date.Year;
            case 'M':
                return date.Month;
            case 'D':
                return date.Day;
            case 'd':
                return date.DayOfYear;
            case 'F':
                return date.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)date.DayOfWeek;
            case 'W':
            {
                var start = StartOfFirstWeek(date.Year, 1);
                var week = ((today - start).TotalDays / 7) + 1;
                if (week > 52 && today >= StartOfFirstWeek(date.Year + 1, 1))
                {
                    week = 1;
                }
                else if (week < 1)
                {
                    week = ((today - StartOfFirstWeek(date.Year - 1, 1)).TotalDays / 7) + 1;
                }

                return (int)Math.Floor(week);
            }

            case 'w':
            {
                var start = StartOfFirstWeek(date.Year, date.Month);
                var week = ((today - start).TotalDays / 7) + 1;
                var (ny, nm) = NextMonth(date.Year, date.Month);
                var (py, pm) = PreviousMonth(date.Year, date.Month);
                if (week > 4 && today >= StartOfFirstWeek(ny, nm))
                {
                    week = 1;
                }
                else if (week < 1)
                {
                    week = ((today - StartOfFirstWeek(py, pm)).TotalDays / 7) + 1;
                }

                return (int)Math.Floor(week);
            }

            case 'X':
                return date < StartOfFirstWeek(date.Year, 1) ? date.Year - 1 : date >= StartOfFirstWeek(date.Year + 1, 1) ? date.Year + 1 : date.Year;
            case 'x':
            {
                var (ny, nm) = NextMonth(date.Year, date.Month);
                var (_, pm) = PreviousMonth(date.Year, date.Month);
                return date < StartOfFirstWeek(date.Year, date.Month) ? pm : date >= StartOfFirstWeek(ny, nm) ? nm : date.Month;
            }

            case 'H':
                return date.Hour;
            case 'h':
                return date.Hour % 12 == 0 ? 12 : date.Hour % 12;
            case 'm':
                return date.Minute;
            default:
                return date.Second;
        }
    }
}
