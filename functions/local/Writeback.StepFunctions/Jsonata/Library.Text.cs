using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>URL coding with JavaScript's encodeURI/encodeURIComponent character sets.</summary>
internal static class UrlCoding
{
    private const string ComponentSafe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()";
    private const string UriReserved = ";/?:@&=+$,#";

    public static string? EncodeComponent(string? s, string function) => s is null ? null : EncodeWith(s, ComponentSafe, function);

    public static string? Encode(string? s) => s is null ? null : EncodeWith(s, ComponentSafe + UriReserved, "encodeUrl");

    private static string EncodeWith(string s, string safe, string function)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (safe.Contains(c, StringComparison.Ordinal))
            {
                sb.Append(c);
                continue;
            }

            string unit;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                unit = s.Substring(i, 2);
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                throw new JsonataException("D3140", token: function, value: s);
            }
            else
            {
                unit = c.ToString();
            }

            foreach (var b in Encoding.UTF8.GetBytes(unit))
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    public static string? Decode(string? s, string function, bool component)
    {
        if (s is null)
        {
            return null;
        }

        var bytes = new List<byte>();
        var sb = new StringBuilder();
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '%')
            {
                if (i + 2 >= s.Length || !byte.TryParse(s.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
                {
                    throw new JsonataException("D3140", token: function, value: s);
                }

                if (!component && b < 0x80 && UriReserved.Contains((char)b, StringComparison.Ordinal))
                {
                    Flush();
                    sb.Append(s, i, 3);
                }
                else
                {
                    bytes.Add(b);
                }

                i += 2;
            }
            else
            {
                Flush();
                sb.Append(s[i]);
            }
        }

        Flush();
        return sb.ToString();

        void Flush()
        {
            if (bytes.Count == 0)
            {
                return;
            }

            try
            {
                sb.Append(new UTF8Encoding(false, true).GetString([.. bytes]));
            }
            catch (DecoderFallbackException)
            {
                throw new JsonataException("D3140", token: function, value: s);
            }

            bytes.Clear();
        }
    }
}

/// <summary>$toMillis and $fromMillis: ISO 8601 by default, XPath date/time pictures when given.</summary>
internal static partial class Dates
{
    public static object? ToMillis(string? s, string? picture, DateTimeOffset now)
    {
        if (s is null)
        {
            return null;
        }

        if (picture is not null)
        {
            return Pictures.ParseDateTime(s, picture, now);
        }

        var m = Iso8601().Match(s);
        if (!m.Success)
        {
            throw new JsonataException("D3110", value: s);
        }

        // Missing parts default as Date.parse does: month and day 1, time 0, UTC.
        var text = s.Length == 4 ? s + "-01-01" : s.Length == 7 ? s + "-01" : s;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var d)
            ? (double)d.ToUnixTimeMilliseconds()
            : throw new JsonataException("D3110", value: s);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}(-[01]\d)?(-[0-3]\d)?(T[0-2]\d:[0-5]\d:[0-5]\d)?(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$")]
    private static partial System.Text.RegularExpressions.Regex Iso8601();

    public static object? FromMillis(object? millis, string? picture, string? timezone) =>
        millis is double ms ? Pictures.FormatDateTime((long)Math.Floor(ms), picture, timezone) : null;
}

/// <summary>The functions Step Functions adds to JSONata (and it removes $eval).</summary>
internal static partial class Library
{
    private static IEnumerable<NativeFunc> StepFunctionsAdditions()
    {
        yield return new("partition", "<an:a>", (_, a) => Partition(Arg(a, 0) as JList, (double)Arg(a, 1)!));
        yield return new("range", "<nnn:a>", (_, a) => StepRange((double)Arg(a, 0)!, (double)Arg(a, 1)!, (double)Arg(a, 2)!));
        yield return new("hash", "<ss?:s>", (_, a) => Hash((string)Arg(a, 0)!, Arg(a, 1) as string ?? "SHA-256"));
        yield return new("random", "<n?:n>", (ctx, a) => Arg(a, 0) is double seed ? new Random((int)seed).NextDouble() : RandomDraws.NextDouble(ctx.Env.Randomness));
        yield return new("uuid", "<:s>", (ctx, _) => RandomDraws.Uuid(ctx.Env.Randomness));
        yield return new("parse", "<s:j>", (_, a) => ParseJson((string)Arg(a, 0)!));
    }

    private static JList Partition(JList? array, double size)
    {
        if (size < 1 || Math.Floor(size) != size)
        {
            throw new JsonataException("D3141", value: "The second argument of $partition must be a positive integer");
        }

        var result = new JList();
        var items = array ?? [];
        for (var i = 0; i < items.Count; i += (int)size)
        {
            result.Add(new JList(items.Skip(i).Take((int)size)));
        }

        return result;
    }

    private static JList StepRange(double start, double end, double step)
    {
        if (step == 0 || !double.IsFinite(step))
        {
            throw new JsonataException("D3141", value: "The step of $range must be a non-zero number");
        }

        var result = new JList();
        for (var v = start; step > 0 ? v <= end : v >= end; v += step)
        {
            if (result.Count >= 1000)
            {
                throw new JsonataException("D3141", value: "$range would return more than 1000 items");
            }

            result.Add(v);
        }

        return result;
    }

    private static string Hash(string data, string algorithm)
    {
        var bytes = Encoding.UTF8.GetBytes(data);
#pragma warning disable CA5350, CA5351 // The service's $hash offers MD5 and SHA-1 for checksums, not for security.
        var digest = algorithm switch
        {
            "MD5" => MD5.HashData(bytes),
            "SHA-1" => SHA1.HashData(bytes),
            "SHA-256" => SHA256.HashData(bytes),
            "SHA-384" => SHA384.HashData(bytes),
            "SHA-512" => SHA512.HashData(bytes),
            _ => throw new JsonataException("D3141", value: $"$hash supports MD5, SHA-1, SHA-256, SHA-384 and SHA-512, not '{algorithm}'"),
        };
#pragma warning restore CA5350, CA5351
        return Convert.ToHexStringLower(digest);
    }

    private static object? ParseJson(string text)
    {
        try
        {
            return Values.FromJson(System.Text.Json.Nodes.JsonNode.Parse(text));
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new JsonataException("D3141", value: "$parse: the argument is not valid JSON (" + e.Message + ")");
        }
    }
}
