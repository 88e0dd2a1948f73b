using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>From a call's text to its name and arguments: string literals, paths, numbers and nested calls.</summary>
internal sealed partial class IntrinsicCall
{
    private sealed class Parser(string text)
    {
        private int _pos;

        public bool AtEnd => _pos >= text.Length;

        public IntrinsicCall ParseCall()
        {
            SkipSpaces();
            var start = _pos;
            while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] == '.'))
            {
                _pos++;
            }

            var name = text[start.._pos];
            SkipSpaces();
            Expect('(');
            var args = new List<Arg>();
            SkipSpaces();
            if (Peek() != ')')
            {
                while (true)
                {
                    args.Add(ParseArg());
                    SkipSpaces();
                    if (Peek() == ',')
                    {
                        _pos++;
                        continue;
                    }

                    break;
                }
            }

            Expect(')');
            return new IntrinsicCall(name, [.. args]);
        }

        private Arg ParseArg()
        {
            SkipSpaces();
            var c = Peek();
            if (c == '\'')
            {
                return ParseString();
            }

            if (c == '$')
            {
                var start = _pos;
                var depth = 0;
                var quoted = false;
                while (_pos < text.Length)
                {
                    var ch = text[_pos];
                    if (ch == '\'' )
                    {
                        quoted = !quoted;
                    }
                    else if (!quoted && ch == '[')
                    {
                        depth++;
                    }
                    else if (!quoted && ch == ']')
                    {
                        depth--;
                    }
                    else if (!quoted && depth == 0 && (ch is ',' or ')' || char.IsWhiteSpace(ch)))
                    {
                        break;
                    }

                    _pos++;
                }

                var pathText = text[start.._pos];
                return JsonPath.TryParse(pathText, out var path, out var error) ? new PathArg(path) : throw new FormatException(error);
            }

            if (text.AsSpan(_pos).StartsWith("States.", StringComparison.Ordinal))
            {
                return new CallArg(ParseCall());
            }

            var tokenStart = _pos;
            while (_pos < text.Length && text[_pos] is not (',' or ')') && !char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }

            var token = text[tokenStart.._pos];
            return token switch
            {
                "null" => new LiteralArg(null, null),
                "true" => new LiteralArg(JsonValue.Create(true), null),
                "false" => new LiteralArg(JsonValue.Create(false), null),
                _ when double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => new LiteralArg(Json.Number(d), null),
                _ => throw new FormatException($"'{token}' is not a valid argument"),
            };
        }

        private LiteralArg ParseString()
        {
            _pos++; // opening quote
            var raw = new StringBuilder();
            var value = new StringBuilder();
            while (_pos < text.Length && text[_pos] != '\'')
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length)
                {
                    raw.Append('\\').Append(text[_pos + 1]);
                    value.Append(text[_pos + 1]);
                    _pos += 2;
                    continue;
                }

                raw.Append(text[_pos]);
                value.Append(text[_pos]);
                _pos++;
            }

            if (_pos >= text.Length)
            {
                throw new FormatException("unterminated string literal");
            }

            _pos++;
            return new LiteralArg(JsonValue.Create(value.ToString()), raw.ToString());
        }

        private char Peek() => _pos < text.Length ? text[_pos] : '\0';

        private void Expect(char c)
        {
            if (Peek() != c)
            {
                throw new FormatException($"expected '{c}' at position {_pos} in '{text}'");
            }

            _pos++;
        }

        public void SkipSpaces()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }
    }
}
