using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Writeback.StepFunctions.Jsonata;

internal readonly record struct Token(string Type, object? Value, int Position);

/// <summary>Splits an expression into tokens; a '/' starts a regular expression only where an operand may start.</summary>
internal sealed partial class Lexer(string source, bool version206)
{
    internal static readonly Dictionary<string, int> Operators = new(StringComparer.Ordinal)
    {
        ["."] = 75, ["["] = 80, ["]"] = 0, ["{"] = 70, ["}"] = 0, ["("] = 80, [")"] = 0, [","] = 0, ["@"] = 80, ["#"] = 80,
        [";"] = 80, [":"] = 80, ["?"] = 20, ["+"] = 50, ["-"] = 50, ["*"] = 60, ["/"] = 60, ["%"] = 60, ["|"] = 20,
        ["="] = 40, ["<"] = 40, [">"] = 40, ["^"] = 40, ["**"] = 60, [".."] = 20, [":="] = 10, ["!="] = 40, ["<="] = 40,
        [">="] = 40, ["~>"] = 40, ["?:"] = 40, ["??"] = 40, ["and"] = 30, ["or"] = 25, ["in"] = 40, ["&"] = 50, ["!"] = 0, ["~"] = 0,
    };

    private static readonly string[] TwoCharOperators = ["..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??"];

    private int _position;

    [GeneratedRegex(@"\G-?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?")]
    private static partial Regex NumberPattern();

    public Token? Next(bool prefix)
    {
        var s = source;
        while (_position < s.Length && " \t\n\r\v".Contains(s[_position], StringComparison.Ordinal))
        {
            _position++;
        }

        if (_position >= s.Length)
        {
            return null;
        }

        if (s[_position] == '/' && At(1) == '*')
        {
            var start = _position;
            var end = s.IndexOf("*/", _position + 2, StringComparison.Ordinal);
            if (end < 0)
            {
                throw new JsonataException("S0106", start);
            }

            _position = end + 2;
            return Next(prefix);
        }

        var c = s[_position];
        if (!prefix && c == '/')
        {
            _position++;
            return ScanRegex();
        }

        foreach (var op in TwoCharOperators)
        {
            if (string.CompareOrdinal(s, _position, op, 0, 2) == 0)
            {
                if (version206 && op is "??" or "?:")
                {
                    throw new JsonataException("S0204", _position, op);
                }

                _position += 2;
                return new Token("operator", op, _position);
            }
        }

        if (Operators.ContainsKey(c.ToString()))
        {
            _position++;
            return new Token("operator", c.ToString(), _position);
        }

        if (c is '"' or '\'')
        {
            return ScanString(c);
        }

        var m = NumberPattern().Match(s, _position);
        if (m.Success)
        {
            var num = double.Parse(m.Value, CultureInfo.InvariantCulture);
            if (double.IsFinite(num))
            {
                _position += m.Length;
                return new Token("number", num, _position);
            }

            throw new JsonataException("S0102", _position, m.Value);
        }

        if (c == '`')
        {
            var end = s.IndexOf('`', _position + 1);
            if (end < 0)
            {
                _position = s.Length;
                throw new JsonataException("S0105", _position);
            }

            var quoted = s[(_position + 1)..end];
            _position = end + 1;
            return new Token("name", quoted, _position);
        }

        var i = _position;
        while (i < s.Length && !" \t\n\r\v".Contains(s[i], StringComparison.Ordinal) && !Operators.ContainsKey(s[i].ToString()))
        {
            i++;
        }

        var word = s[_position..i];
        _position = i;
        if (word.StartsWith('$'))
        {
            return new Token("variable", word[1..], _position);
        }

        return word switch
        {
            "or" or "in" or "and" => new Token("operator", word, _position),
            "true" => new Token("value", true, _position),
            "false" => new Token("value", false, _position),
            "null" => new Token("value", JNull.Value, _position),
            "" when _position == s.Length => null,
            _ => new Token("name", word, _position),
        };
    }

    private char At(int offset) => _position + offset < source.Length ? source[_position + offset] : '\0';

    private Token ScanString(char quote)
    {
        var s = source;
        _position++;
        var sb = new StringBuilder();
        while (_position < s.Length)
        {
            var c = s[_position];
            if (c == '\\')
            {
                _position++;
                c = _position < s.Length ? s[_position] : '\0';
                switch (c)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        var hex = _position + 5 <= s.Length ? s.Substring(_position + 1, 4) : "";
                        if (hex.Length == 4 && int.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
                        {
                            sb.Append((char)code);
                            _position += 4;
                        }
                        else
                        {
                            throw new JsonataException("S0104", _position);
                        }

                        break;
                    default:
                        throw new JsonataException("S0103", _position, c.ToString());
                }
            }
            else if (c == quote)
            {
                _position++;
                return new Token("string", sb.ToString(), _position);
            }
            else
            {
                sb.Append(c);
            }

            _position++;
        }

        throw new JsonataException("S0101", _position);
    }

    private Token ScanRegex()
    {
        var s = source;
        var start = _position;
        var depth = 0;
        while (_position < s.Length)
        {
            var c = s[_position];
            if (c == '/' && depth == 0 && BackslashesBefore(_position) % 2 == 0)
            {
                var pattern = s[start.._position];
                if (pattern.Length == 0)
                {
                    throw new JsonataException("S0301", _position);
                }

                _position++;
                var flagsStart = _position;
                while (_position < s.Length && s[_position] is 'i' or 'm')
                {
                    _position++;
                }

                var flags = s[flagsStart.._position];
                return new Token("regex", JsRegex.Create(pattern, flags), _position);
            }

            if (c is '(' or '[' or '{' && (_position == 0 || s[_position - 1] != '\\'))
            {
                depth++;
            }

            if (c is ')' or ']' or '}' && (_position == 0 || s[_position - 1] != '\\'))
            {
                depth--;
            }

            _position++;
        }

        throw new JsonataException("S0302", _position);
    }

    private int BackslashesBefore(int position)
    {
        var n = 0;
        while (position - n - 1 >= 0 && source[position - n - 1] == '\\')
        {
            n++;
        }

        return n;
    }
}

/// <summary>A regular expression literal; JavaScript's syntax is close enough to .NET's for the patterns JSONata users write.</summary>
internal sealed class JsRegex
{
    private JsRegex(Regex regex, string source)
    {
        Regex = regex;
        Source = source;
    }

    public Regex Regex { get; }

    public string Source { get; }

    public static JsRegex Create(string pattern, string flags)
    {
        var options = RegexOptions.CultureInvariant;
        if (flags.Contains('i', StringComparison.Ordinal))
        {
            options |= RegexOptions.IgnoreCase;
        }

        if (flags.Contains('m', StringComparison.Ordinal))
        {
            options |= RegexOptions.Multiline;
        }

        return new JsRegex(new Regex(pattern, options, TimeSpan.FromSeconds(5)), pattern);
    }
}
