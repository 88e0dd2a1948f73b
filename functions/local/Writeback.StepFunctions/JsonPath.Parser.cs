using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>From the path's text to its segments.</summary>
public sealed partial class JsonPath
{
    private sealed class Parser(string text)
    {
        private int _pos;

        public JsonPath Parse()
        {
            if (text.Length == 0 || text[0] != '$')
            {
                throw new FormatException("a path starts with '$'");
            }

            _pos = 1;
            var isContext = false;
            string? variable = null;
            if (_pos < text.Length && text[_pos] == '$')
            {
                isContext = true;
                _pos++;
            }
            else if (_pos < text.Length && text[_pos] is not ('.' or '['))
            {
                // $name: a workflow variable; the name ends where the first segment starts.
                var start = _pos;
                while (_pos < text.Length && text[_pos] is not ('.' or '['))
                {
                    _pos++;
                }

                variable = text[start.._pos];
                if (!VariableNames.IsValid(variable))
                {
                    throw new FormatException($"'{variable}' is not a valid variable name");
                }
            }

            var segments = new List<Segment>();
            while (_pos < text.Length)
            {
                segments.Add(ParseSegment());
            }

            return new JsonPath(text, isContext, [.. segments], variable);
        }

        private Segment ParseSegment()
        {
            var c = text[_pos];
            if (c == '.')
            {
                _pos++;
                if (_pos < text.Length && text[_pos] == '.')
                {
                    _pos++;
                    var inner = _pos < text.Length && text[_pos] == '[' ? ParseBracket() : ParseDotName();
                    return new Segment { Kind = SegmentKind.Descend, Inner = inner };
                }

                return ParseDotName();
            }

            if (c == '[')
            {
                return ParseBracket();
            }

            throw new FormatException($"unexpected '{c}' at position {_pos}");
        }

        private Segment ParseDotName()
        {
            var start = _pos;
            while (_pos < text.Length && text[_pos] is not ('.' or '['))
            {
                if (char.IsWhiteSpace(text[_pos]))
                {
                    throw new FormatException($"whitespace at position {_pos}");
                }

                _pos++;
            }

            var name = text[start.._pos];
            return name switch
            {
                "" => throw new FormatException($"empty name at position {start}"),
                "*" => new Segment { Kind = SegmentKind.Wildcard },
                _ => new Segment { Kind = SegmentKind.Name, Name = name },
            };
        }

        private Segment ParseBracket()
        {
            _pos++; // '['
            SkipSpaces();
            if (_pos >= text.Length)
            {
                throw new FormatException("unterminated '['");
            }

            Segment segment;
            if (text[_pos] == '*')
            {
                _pos++;
                segment = new Segment { Kind = SegmentKind.Wildcard };
            }
            else if (text[_pos] == '?')
            {
                segment = ParseFilter();
            }
            else
            {
                var parts = new List<Segment>();
                do
                {
                    SkipSpaces();
                    parts.Add(text[_pos] is '\'' or '"' ? new Segment { Kind = SegmentKind.Name, Name = ParseQuoted() } : ParseIndexOrSlice());
                    SkipSpaces();
                }
                while (_pos < text.Length && text[_pos] == ',' && ++_pos > 0);

                segment = parts.Count == 1 ? parts[0] : new Segment { Kind = SegmentKind.Union, Alternatives = [.. parts] };
            }

            SkipSpaces();
            if (_pos >= text.Length || text[_pos] != ']')
            {
                throw new FormatException($"expected ']' at position {_pos}");
            }

            _pos++;
            return segment;
        }

        private Segment ParseIndexOrSlice()
        {
            int? first = ParseOptionalInt();
            if (_pos < text.Length && text[_pos] == ':')
            {
                _pos++;
                var end = ParseOptionalInt();
                var step = 1;
                if (_pos < text.Length && text[_pos] == ':')
                {
                    _pos++;
                    step = ParseOptionalInt() ?? 1;
                    if (step <= 0)
                    {
                        throw new FormatException("a slice step must be positive");
                    }
                }

                return new Segment { Kind = SegmentKind.Slice, Start = first ?? 0, End = end, Step = step };
            }

            return first is null
                ? throw new FormatException($"expected an index at position {_pos}")
                : new Segment { Kind = SegmentKind.Index, Start = first.Value };
        }

        private int? ParseOptionalInt()
        {
            var start = _pos;
            if (_pos < text.Length && text[_pos] == '-')
            {
                _pos++;
            }

            while (_pos < text.Length && char.IsAsciiDigit(text[_pos]))
            {
                _pos++;
            }

            return _pos == start ? null : int.Parse(text.AsSpan(start, _pos - start), CultureInfo.InvariantCulture);
        }

        private string ParseQuoted()
        {
            var quote = text[_pos++];
            var sb = new StringBuilder();
            while (_pos < text.Length && text[_pos] != quote)
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length)
                {
                    _pos++;
                }

                sb.Append(text[_pos++]);
            }

            if (_pos >= text.Length)
            {
                throw new FormatException("unterminated quoted name");
            }

            _pos++;
            return sb.ToString();
        }

        private Segment ParseFilter()
        {
            _pos++; // '?'
            SkipSpaces();
            if (_pos >= text.Length || text[_pos] != '(')
            {
                throw new FormatException("expected '(' after '?'");
            }

            var close = text.IndexOf(")]", _pos, StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException("unterminated filter");
            }

            var body = text[(_pos + 1)..close].Trim();
            _pos = close + 1;
            if (!body.StartsWith('@'))
            {
                throw new FormatException("a filter starts with '@'");
            }

            string[] operators = ["==", "!=", "<=", ">=", "<", ">"];
            foreach (var op in operators)
            {
                var at = body.IndexOf(op, StringComparison.Ordinal);
                if (at > 0)
                {
                    var left = Parse("$" + body[1..at].Trim());
                    var literal = body[(at + op.Length)..].Trim();
                    if (literal.StartsWith('\''))
                    {
                        literal = JsonSerializer.Serialize(literal.Trim('\''), JsonContext.Default.String);
                    }

                    JsonNode? right;
                    try
                    {
                        right = JsonNode.Parse(literal);
                    }
                    catch (JsonException)
                    {
                        throw new FormatException($"'{literal}' is not a literal");
                    }

                    return new Segment { Kind = SegmentKind.Filter, Filter = new Filter { Left = left, Operator = op, Right = right } };
                }
            }

            return new Segment { Kind = SegmentKind.Filter, Filter = new Filter { Left = Parse("$" + body[1..]) } };
        }

        private static JsonPath Parse(string path) => new Parser(path).Parse();

        private void SkipSpaces()
        {
            while (_pos < text.Length && text[_pos] == ' ')
            {
                _pos++;
            }
        }
    }
}
