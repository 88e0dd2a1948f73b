using System.Globalization;
using System.Text;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>$formatNumber: XPath decimal-format pictures ("#,##0.00", "0.0e0", "00%") with the format's properties.</summary>
internal static partial class Pictures
{
    private sealed record SubPicture(string Prefix, string Suffix, string Active, string Mantissa, string? Exponent, string Integer, string Fraction, string Picture);

    private sealed class NumberPicture
    {
        public List<int> IntegerGroups { get; init; } = [];

        public int RegularGrouping { get; init; }

        public int MinInteger { get; init; }

        public int ScalingFactor { get; init; }

        public string Prefix { get; set; } = "";

        public List<int> FractionGroups { get; init; } = [];

        public int MinFraction { get; init; }

        public int MaxFraction { get; init; }

        public int MinExponent { get; init; }

        public string Suffix { get; init; } = "";

        public string Picture { get; init; } = "";
    }

    public static object? FormatNumber(object? value, string? picture, JObject? options)
    {
        if (value is not double number)
        {
            return null;
        }

        var p = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["decimal-separator"] = ".", ["grouping-separator"] = ",", ["exponent-separator"] = "e", ["infinity"] = "Infinity",
            ["minus-sign"] = "-", ["NaN"] = "NaN", ["percent"] = "%", ["per-mille"] = "\u2030", ["zero-digit"] = "0", ["digit"] = "#",
            ["pattern-separator"] = ";",
        };
        foreach (var (k, v) in options ?? [])
        {
            if (v is string sv)
            {
                p[k] = sv;
            }
        }

        var zero = p["zero-digit"][0];
        var digits = Enumerable.Range(zero, 10).Select(c => (char)c).ToList();
        var dec = p["decimal-separator"];
        var group = p["grouping-separator"];
        var exp = p["exponent-separator"];
        var digit = p["digit"];
        var active = new List<string>(digits.Select(d => d.ToString())) { dec, exp, group, digit, p["pattern-separator"] };
        bool IsActive(char c) => active.Contains(c.ToString());
        bool IsDigit(char c) => digits.Contains(c);
        var subPictures = (picture ?? "").Split(p["pattern-separator"]);
        if (subPictures.Length > 2)
        {
            throw new JsonataException("D3080");
        }

        SubPicture Split(string sub)
        {
            var prefix = "";
            for (var i = 0; i < sub.Length; i++)
            {
                if (IsActive(sub[i]) && sub[i].ToString() != exp)
                {
                    prefix = sub[..i];
                    break;
                }
            }

            var suffix = "";
            for (var i = sub.Length - 1; i >= 0; i--)
            {
                if (IsActive(sub[i]) && sub[i].ToString() != exp)
                {
                    suffix = sub[(i + 1)..];
                    break;
                }
            }

            var activePart = sub[prefix.Length..(sub.Length - suffix.Length)];
            var expPos = sub.IndexOf(exp, prefix.Length, StringComparison.Ordinal);
            string mantissa;
            string? exponent;
            if (expPos == -1 || expPos > sub.Length - suffix.Length)
            {
                mantissa = activePart;
                exponent = null;
            }
            else
            {
                mantissa = activePart[..expPos];
                exponent = activePart[(expPos + 1)..];
            }

            var decPos = mantissa.IndexOf(dec, StringComparison.Ordinal);
            return decPos == -1
                ? new SubPicture(prefix, suffix, activePart, mantissa, exponent, mantissa, suffix, sub)
                : new SubPicture(prefix, suffix, activePart, mantissa, exponent, mantissa[..decPos], mantissa[(decPos + 1)..], sub);
        }

        void Validate(SubPicture parts)
        {
            string? error = null;
            var sub = parts.Picture;
            var decPos = sub.IndexOf(dec, StringComparison.Ordinal);
            if (decPos != sub.LastIndexOf(dec, StringComparison.Ordinal))
            {
                error = "D3081";
            }

            if (sub.IndexOf(p["percent"], StringComparison.Ordinal) != sub.LastIndexOf(p["percent"], StringComparison.Ordinal))
            {
                error = "D3082";
            }

            if (sub.IndexOf(p["per-mille"], StringComparison.Ordinal) != sub.LastIndexOf(p["per-mille"], StringComparison.Ordinal))
            {
                error = "D3083";
            }

            if (sub.Contains(p["percent"], StringComparison.Ordinal) && sub.Contains(p["per-mille"], StringComparison.Ordinal))
            {
                error = "D3084";
            }

            if (!parts.Mantissa.Any(c => IsDigit(c) || c.ToString() == digit))
            {
                error = "D3085";
            }

            if (parts.Active.Any(c => !IsActive(c)))
            {
                error = "D3086";
            }

            if (decPos != -1)
            {
                if ((decPos > 0 && sub[decPos - 1].ToString() == group) || (decPos + 1 < sub.Length && sub[decPos + 1].ToString() == group))
                {
                    error = "D3087";
                }
            }
            else if (parts.Integer.EndsWith(group, StringComparison.Ordinal))
            {
                error = "D3088";
            }

            if (sub.Contains(group + group, StringComparison.Ordinal))
            {
                error = "D3089";
            }

            var optional = parts.Integer.IndexOf(digit, StringComparison.Ordinal);
            if (optional != -1 && parts.Integer[..optional].Any(IsDigit))
            {
                error = "D3090";
            }

            optional = parts.Fraction.LastIndexOf(digit, StringComparison.Ordinal);
            if (optional != -1 && parts.Fraction[optional..].Any(IsDigit))
            {
                error = "D3091";
            }

            if (parts.Exponent is { Length: > 0 } && (sub.Contains(p["percent"], StringComparison.Ordinal) || sub.Contains(p["per-mille"], StringComparison.Ordinal)))
            {
                error = "D3092";
            }

            if (parts.Exponent is { } e && (e.Length == 0 || e.Any(c => !IsDigit(c))))
            {
                error = "D3093";
            }

            if (error is not null)
            {
                throw new JsonataException(error);
            }
        }

        NumberPicture Analyse(SubPicture parts)
        {
            List<int> GroupPositions(string part, bool toLeft)
            {
                var positions = new List<int>();
                var at = part.IndexOf(group, StringComparison.Ordinal);
                while (at != -1)
                {
                    positions.Add((toLeft ? part[..at] : part[at..]).Count(c => IsDigit(c) || c.ToString() == digit));
                    at = parts.Integer.IndexOf(group, at + 1, StringComparison.Ordinal);
                }

                return positions;
            }

            var integerGroups = GroupPositions(parts.Integer, false);
            static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
            var regular = 0;
            if (integerGroups.Count > 0)
            {
                var factor = integerGroups.Aggregate(Gcd);
                regular = Enumerable.Range(1, integerGroups.Count).All(i => integerGroups.Contains(i * factor)) ? factor : 0;
            }

            var minInteger = parts.Integer.Count(IsDigit);
            var scaling = minInteger;
            var minFraction = parts.Fraction.Count(IsDigit);
            var maxFraction = parts.Fraction.Count(c => IsDigit(c) || c.ToString() == digit);
            var hasExponent = parts.Exponent is not null;
            if (minInteger == 0 && maxFraction == 0)
            {
                if (hasExponent)
                {
                    minFraction = 1;
                    maxFraction = 1;
                }
                else
                {
                    minInteger = 1;
                }
            }

            if (hasExponent && minInteger == 0 && parts.Integer.Contains(digit, StringComparison.Ordinal))
            {
                minInteger = 1;
            }

            if (minInteger == 0 && minFraction == 0)
            {
                minFraction = 1;
            }

            return new NumberPicture
            {
                IntegerGroups = integerGroups,
                RegularGrouping = regular,
                MinInteger = minInteger,
                ScalingFactor = scaling,
                Prefix = parts.Prefix,
                FractionGroups = GroupPositions(parts.Fraction, true),
                MinFraction = minFraction,
                MaxFraction = maxFraction,
                MinExponent = hasExponent ? parts.Exponent!.Count(IsDigit) : 0,
                Suffix = parts.Suffix,
                Picture = parts.Picture,
            };
        }

        var split = subPictures.Select(Split).ToList();
        split.ForEach(Validate);
        var pictures = split.Select(Analyse).ToList();
        if (pictures.Count == 1)
        {
            var negative = Analyse(split[0]);
            negative.Prefix = p["minus-sign"] + negative.Prefix;
            pictures.Add(negative);
        }

        var pic = number >= 0 ? pictures[0] : pictures[1];
        var adjusted = pic.Picture.Contains(p["percent"], StringComparison.Ordinal) ? number * 100
            : pic.Picture.Contains(p["per-mille"], StringComparison.Ordinal) ? number * 1000 : number;
        double mantissaValue = adjusted;
        int? exponentValue = null;
        if (pic.MinExponent != 0)
        {
            var max = Math.Pow(10, pic.ScalingFactor);
            var min = Math.Pow(10, pic.ScalingFactor - 1);
            exponentValue = 0;
            if (mantissaValue != 0)
            {
                while (Math.Abs(mantissaValue) < min)
                {
                    mantissaValue *= 10;
                    exponentValue--;
                }

                while (Math.Abs(mantissaValue) > max)
                {
                    mantissaValue /= 10;
                    exponentValue++;
                }
            }
        }

        var rounded = Library.Round(mantissaValue, pic.MaxFraction);
        string MakeString(double v, int dp)
        {
            var str = Math.Abs(v).ToString("F" + dp.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            return zero == '0' ? str : string.Concat(str.Select(c => c is >= '0' and <= '9' ? digits[c - '0'] : c));
        }

        var text = MakeString(rounded, pic.MaxFraction);
        var decimalPos = text.IndexOf('.', StringComparison.Ordinal);
        text = decimalPos == -1 ? text + dec : text[..decimalPos] + dec + text[(decimalPos + 1)..];
        text = text.TrimStart(zero).TrimEnd(zero);
        decimalPos = text.IndexOf(dec, StringComparison.Ordinal);
        var padLeft = pic.MinInteger - decimalPos;
        var padRight = pic.MinFraction - (text.Length - decimalPos - 1);
        text = (padLeft > 0 ? new string(zero, padLeft) : "") + text + (padRight > 0 ? new string(zero, padRight) : "");
        decimalPos = text.IndexOf(dec, StringComparison.Ordinal);
        if (pic.RegularGrouping > 0)
        {
            var groups = (decimalPos - 1) / pic.RegularGrouping;
            for (var g = 1; g <= groups; g++)
            {
                text = text.Insert(decimalPos - (g * pic.RegularGrouping), group);
            }
        }
        else
        {
            foreach (var pos in pic.IntegerGroups)
            {
                text = text.Insert(decimalPos - pos, group);
                decimalPos++;
            }
        }

        decimalPos = text.IndexOf(dec, StringComparison.Ordinal);
        foreach (var pos in pic.FractionGroups)
        {
            text = text.Insert(pos + decimalPos + 1, group);
        }

        decimalPos = text.IndexOf(dec, StringComparison.Ordinal);
        if (!pic.Picture.Contains(dec, StringComparison.Ordinal) || decimalPos == text.Length - 1)
        {
            text = text[..^1];
        }

        var sb = new StringBuilder(pic.Prefix).Append(text);
        if (exponentValue is { } e)
        {
            var expText = MakeString(e, 0);
            sb.Append(exp).Append(e < 0 ? p["minus-sign"] : "").Append(expText.PadLeft(pic.MinExponent, zero));
        }

        return sb.Append(pic.Suffix).ToString();
    }
}
