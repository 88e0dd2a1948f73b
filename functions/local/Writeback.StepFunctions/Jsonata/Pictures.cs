using System.Globalization;
using System.Text;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>
/// Integer and date/time pictures of XPath F&amp;O 3.1 as JSONata uses them: $formatInteger, $parseInteger and the
/// picture forms of $fromMillis, $now, $toMillis and $formatNumber.
/// </summary>
internal static partial class Pictures
{
    private enum Primary { Decimal, Letters, Roman, Words, Sequence }

    private enum Case { Lower, Upper, Title }

    private sealed class IntegerFormat
    {
        public Primary Primary { get; set; } = Primary.Decimal;

        public Case Case { get; set; } = Case.Lower;

        public bool Ordinal { get; set; }

        public int ZeroCode { get; set; } = 0x30;

        public int MandatoryDigits { get; set; }

        public int OptionalDigits { get; set; }

        public bool Regular { get; set; }

        public List<(int Position, string Character)> Separators { get; set; } = [];

        public string Token { get; set; } = "";
    }

    private static readonly string[] Few = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
        "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"];

    private static readonly string[] Ordinals = ["Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth",
        "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"];

    private static readonly string[] Decades = ["Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"];

    private static readonly string[] Magnitudes = ["Thousand", "Million", "Billion", "Trillion"];

    private static readonly int[] DecimalGroups = [0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
        0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
        0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10];

    private static readonly (int Value, string Numeral)[] Roman = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")];

    private static readonly Dictionary<string, double> WordValues = BuildWordValues();

    public static object? FormatInteger(object? value, string? picture) =>
        value is double d ? FormatInteger(Math.Floor(d), Analyse(picture ?? "")) : null;

    public static object? ParseInteger(string? value, string? picture) =>
        value is null ? null : ParseInteger(value, Analyse(picture ?? ""));

    private static Dictionary<string, double> BuildWordValues()
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < Few.Length; i++)
        {
            values[Few[i].ToLowerInvariant()] = i;
            values[Ordinals[i].ToLowerInvariant()] = i;
        }

        for (var i = 0; i < Decades.Length; i++)
        {
            var w = Decades[i].ToLowerInvariant();
            values[w] = (i + 2) * 10;
            values[w[..^1] + "ieth"] = (i + 2) * 10;
        }

        values["hundredth"] = 100;
        for (var i = 0; i < Magnitudes.Length; i++)
        {
            var w = Magnitudes[i].ToLowerInvariant();
            values[w] = Math.Pow(10, (i + 1) * 3);
            values[w + "th"] = Math.Pow(10, (i + 1) * 3);
        }

        return values;
    }

    private static string NumberToWords(double num, bool prev, bool ordinal)
    {
        if (num <= 19)
        {
            return (prev ? " and " : "") + (ordinal ? Ordinals[(int)num] : Few[(int)num]);
        }

        if (num < 100)
        {
            var tens = (int)Math.Floor(num / 10);
            var remainder = num % 10;
            var words = (prev ? " and " : "") + Decades[tens - 2];
            if (remainder > 0)
            {
                return words + "-" + NumberToWords(remainder, false, ordinal);
            }

            return ordinal ? words[..^1] + "ieth" : words;
        }

        if (num < 1000)
        {
            var hundreds = (int)Math.Floor(num / 100);
            var remainder = num % 100;
            var words = (prev ? ", " : "") + Few[hundreds] + " Hundred";
            return remainder > 0 ? words + NumberToWords(remainder, true, ordinal) : ordinal ? words + "th" : words;
        }

        var mag = (int)Math.Floor(Math.Log10(num) / 3);
        mag = Math.Min(mag, Magnitudes.Length);
        var factor = Math.Pow(10, mag * 3);
        var mant = Math.Floor(num / factor);
        var rest = num - (mant * factor);
        var result = (prev ? ", " : "") + NumberToWords(mant, false, false) + " " + Magnitudes[mag - 1];
        return rest > 0 ? result + NumberToWords(rest, true, ordinal) : ordinal ? result + "th" : result;
    }

    private static double WordsToNumber(string text)
    {
        var parts = System.Text.RegularExpressions.Regex.Split(text, @",\s|\sand\s|[\s\\-]");
        var segs = new List<double> { 0 };
        foreach (var part in parts)
        {
            var value = WordValues.TryGetValue(part, out var v) ? v : double.NaN;
            if (value < 100)
            {
                var top = segs[^1];
                segs.RemoveAt(segs.Count - 1);
                if (top >= 1000)
                {
                    segs.Add(top);
                    top = 0;
                }

                segs.Add(top + value);
            }
            else
            {
                segs[^1] *= value;
            }
        }

        return segs.Sum();
    }

    private static string ToRoman(double value)
    {
        var sb = new StringBuilder();
        foreach (var (v, numeral) in Roman)
        {
            while (value >= v)
            {
                sb.Append(numeral);
                value -= v;
            }
        }

        return sb.ToString();
    }

    private static double FromRoman(string roman)
    {
        double result = 0, max = 1;
        for (var i = roman.Length - 1; i >= 0; i--)
        {
            double value = roman[i] switch { 'M' => 1000, 'D' => 500, 'C' => 100, 'L' => 50, 'X' => 10, 'V' => 5, 'I' => 1, _ => double.NaN };
            if (value < max)
            {
                result -= value;
            }
            else
            {
                max = value;
                result += value;
            }
        }

        return result;
    }

    private static string ToLetters(double value, char a)
    {
        var sb = new StringBuilder();
        while (value > 0)
        {
            sb.Insert(0, (char)(((value - 1) % 26) + a));
            value = Math.Floor((value - 1) / 26);
        }

        return sb.ToString();
    }

    private static double FromLetters(string letters, char a)
    {
        double result = 0;
        for (var i = 0; i < letters.Length; i++)
        {
            result += (letters[letters.Length - i - 1] - a + 1) * Math.Pow(26, i);
        }

        return result;
    }

    private static IntegerFormat Analyse(string picture)
    {
        var format = new IntegerFormat();
        var semicolon = picture.LastIndexOf(';');
        var primary = picture;
        if (semicolon >= 0)
        {
            primary = picture[..semicolon];
            format.Ordinal = picture.Length > semicolon + 1 && picture[semicolon + 1] == 'o';
        }

        (Primary, Case)? named = primary switch
        {
            "A" => (Primary.Letters, Case.Upper),
            "a" => (Primary.Letters, Case.Lower),
            "I" => (Primary.Roman, Case.Upper),
            "i" => (Primary.Roman, Case.Lower),
            "W" => (Primary.Words, Case.Upper),
            "Ww" => (Primary.Words, Case.Title),
            "w" => (Primary.Words, Case.Lower),
            _ => null,
        };
        if (named is var (kind, letterCase))
        {
            format.Primary = kind;
            format.Case = letterCase;
            return format;
        }

        int? zeroCode = null;
        var position = 0;
        var separators = new List<(int, string)>();
        foreach (var cp in Library.CodePoints(primary).AsEnumerable().Reverse())
        {
            var group = DecimalGroups.FirstOrDefault(g => cp >= g && cp <= g + 9, -1);
            if (group >= 0)
            {
                format.MandatoryDigits++;
                position++;
                if (zeroCode is null)
                {
                    zeroCode = group;
                }
                else if (zeroCode != group)
                {
                    throw new JsonataException("D3131");
                }
            }
            else if (cp == '#')
            {
                position++;
                format.OptionalDigits++;
            }
            else
            {
                separators.Add((position, char.ConvertFromUtf32(cp)));
            }
        }

        if (format.MandatoryDigits == 0)
        {
            format.Primary = Primary.Sequence;
            format.Token = primary;
            return format;
        }

        format.ZeroCode = zeroCode!.Value;
        var regular = RegularRepeat(separators);
        format.Regular = regular > 0;
        format.Separators = regular > 0 ? [(regular, separators[0].Item2)] : separators;
        return format;
    }

    private static int RegularRepeat(List<(int Position, string Character)> separators)
    {
        if (separators.Count == 0 || separators.Any(s => s.Character != separators[0].Character))
        {
            return 0;
        }

        static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
        var positions = separators.Select(s => s.Position).ToList();
        var factor = positions.Aggregate(Gcd);
        for (var i = 1; i <= positions.Count; i++)
        {
            if (!positions.Contains(i * factor))
            {
                return 0;
            }
        }

        return factor;
    }

    private static string FormatInteger(double value, IntegerFormat format)
    {
        var negative = value < 0;
        value = Math.Abs(value);
        string result;
        switch (format.Primary)
        {
            case Primary.Letters:
                result = ToLetters(value, format.Case == Case.Upper ? 'A' : 'a');
                break;
            case Primary.Roman:
                result = ToRoman(value);
                if (format.Case == Case.Upper)
                {
                    result = result.ToUpperInvariant();
                }

                break;
            case Primary.Words:
                result = NumberToWords(value, false, format.Ordinal);
                result = format.Case switch { Case.Upper => result.ToUpperInvariant(), Case.Lower => result.ToLowerInvariant(), _ => result };
                break;
            case Primary.Decimal:
                result = Values.FormatNumber(value).PadLeft(format.MandatoryDigits, '0');
                if (format.ZeroCode != 0x30)
                {
                    result = string.Concat(result.Select(c => char.ConvertFromUtf32(c + format.ZeroCode - 0x30)));
                }

                if (format.Regular)
                {
                    var (every, sep) = format.Separators[0];
                    var digits = Library.CodePoints(result).Count;
                    var n = (digits - 1) / every;
                    for (var i = n; i > 0; i--)
                    {
                        result = InsertAtCodePoint(result, digits - (i * every), sep);
                        digits += Library.CodePoints(sep).Count;
                    }
                }
                else
                {
                    foreach (var (pos, sep) in Enumerable.Reverse(format.Separators))
                    {
                        result = InsertAtCodePoint(result, Library.CodePoints(result).Count - pos, sep);
                    }
                }

                if (format.Ordinal)
                {
                    var last = result[^1];
                    var suffix = last switch { '1' => "st", '2' => "nd", '3' => "rd", _ => "th" };
                    if (result.Length > 1 && result[^2] == '1')
                    {
                        suffix = "th";
                    }

                    result += suffix;
                }

                break;
            default:
                throw new JsonataException("D3130", value: format.Token);
        }

        return negative ? "-" + result : result;
    }

    private static string InsertAtCodePoint(string s, int codePointIndex, string insert)
    {
        var cps = Library.CodePoints(s);
        var sb = new StringBuilder();
        for (var i = 0; i < cps.Count; i++)
        {
            if (i == codePointIndex)
            {
                sb.Append(insert);
            }

            sb.Append(char.ConvertFromUtf32(cps[i]));
        }

        if (codePointIndex >= cps.Count)
        {
            sb.Append(insert);
        }

        return sb.ToString();
    }

    private static double? ParseInteger(string value, IntegerFormat format)
    {
        switch (format.Primary)
        {
            case Primary.Letters:
                return FromLetters(value, format.Case == Case.Upper ? 'A' : 'a');
            case Primary.Roman:
                return FromRoman(format.Case == Case.Upper ? value : value.ToUpperInvariant());
            case Primary.Words:
                return WordsToNumber(value.ToLowerInvariant());
            case Primary.Decimal:
                var digits = format.Ordinal && value.Length >= 2 ? value[..^2] : value;
                foreach (var (_, sep) in format.Separators)
                {
                    digits = digits.Replace(sep, "", StringComparison.Ordinal);
                }

                if (format.ZeroCode != 0x30)
                {
                    digits = string.Concat(Library.CodePoints(digits).Select(c => (char)(c - format.ZeroCode + 0x30)));
                }

                var end = 0;
                while (end < digits.Length && (char.IsAsciiDigit(digits[end]) || (end == 0 && digits[end] == '-')))
                {
                    end++;
                }

                return double.TryParse(digits[..end], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
            default:
                throw new JsonataException("D3130", value: format.Token);
        }
    }
}
