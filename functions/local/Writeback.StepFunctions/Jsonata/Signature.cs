using System.Text;
using System.Text.RegularExpressions;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>
/// A function signature such as <c>&lt;s-nn?:s&gt;</c>: the arguments' types are spelled as one letter each and matched
/// against a regular expression built from the signature; '-' means "use the context value when the argument is missing".
/// </summary>
internal sealed class Signature
{
    private sealed class Param
    {
        public string Regex { get; set; } = "";

        public string Type { get; set; } = "";

        public bool Context { get; set; }

        public string ContextRegex { get; set; } = "";

        public string? Subtype { get; set; }
    }

    private readonly List<Param> _params;
    private readonly Regex _regex;

    private Signature(List<Param> parameters)
    {
        _params = parameters;
        _regex = new Regex("^" + string.Concat(parameters.Select(p => "(" + p.Regex + ")")) + "$", RegexOptions.CultureInvariant);
    }

    public int Arity => _params.Count;

    public static Signature Parse(string signature)
    {
        var parameters = new List<Param>();
        var param = new Param();
        var prev = param;
        for (var position = 1; position < signature.Length; position++)
        {
            var symbol = signature[position];
            if (symbol == ':')
            {
                break;
            }

            void Next()
            {
                parameters.Add(param);
                prev = param;
                param = new Param();
            }

            switch (symbol)
            {
                case 's' or 'n' or 'b' or 'l' or 'o':
                    param.Regex = "[" + symbol + "m]";
                    param.Type = symbol.ToString();
                    Next();
                    break;
                case 'a':
                    param.Regex = "[asnblfom]";
                    param.Type = "a";
                    Next();
                    break;
                case 'f':
                    param.Regex = "f";
                    param.Type = "f";
                    Next();
                    break;
                case 'j':
                    param.Regex = "[asnblom]";
                    param.Type = "j";
                    Next();
                    break;
                case 'x':
                    param.Regex = "[asnblfom]";
                    param.Type = "x";
                    Next();
                    break;
                case '-':
                    prev.Context = true;
                    prev.ContextRegex = "^" + prev.Regex + "$";
                    prev.Regex += "?";
                    break;
                case '?' or '+':
                    prev.Regex += symbol;
                    break;
                case '(':
                    var end = Closing(signature, position, '(', ')');
                    var choice = signature[(position + 1)..end];
                    if (choice.Contains('<', StringComparison.Ordinal))
                    {
                        throw new JsonataException("S0402", position, value: choice);
                    }

                    param.Regex = "[" + choice + "m]";
                    param.Type = "(" + choice + ")";
                    position = end;
                    Next();
                    break;
                case '<':
                    if (prev.Type is "a" or "f")
                    {
                        var close = Closing(signature, position, '<', '>');
                        prev.Subtype = signature[(position + 1)..close];
                        position = close;
                    }
                    else
                    {
                        throw new JsonataException("S0401", position, value: prev.Type);
                    }

                    break;
            }
        }

        return new Signature(parameters);
    }

    private static int Closing(string s, int start, char open, char close)
    {
        var depth = 1;
        var position = start;
        while (position < s.Length)
        {
            position++;
            if (position >= s.Length)
            {
                break;
            }

            if (s[position] == close && --depth == 0)
            {
                break;
            }

            if (s[position] == open)
            {
                depth++;
            }
        }

        return position;
    }

    internal static char Symbol(object? value) => value switch
    {
        JFunc => 'f',
        string => 's',
        double => 'n',
        bool => 'b',
        JNull => 'l',
        JList => 'a',
        JObject => 'o',
        _ => 'm',
    };

    public List<object?> Validate(List<object?> args, object? context)
    {
        var supplied = new StringBuilder();
        foreach (var a in args)
        {
            supplied.Append(Symbol(a));
        }

        var sig = supplied.ToString();
        var match = _regex.Match(sig);
        if (!match.Success)
        {
            ThrowValidationError(args, sig);
        }

        var validated = new List<object?>();
        var argIndex = 0;
        for (var i = 0; i < _params.Count; i++)
        {
            var param = _params[i];
            var m = match.Groups[i + 1].Value;
            if (m.Length == 0)
            {
                if (param.Context)
                {
                    if (Regex.IsMatch(Symbol(context).ToString(), param.ContextRegex, RegexOptions.CultureInvariant))
                    {
                        validated.Add(context);
                    }
                    else
                    {
                        throw new JsonataException("T0411", value: context, index: argIndex + 1);
                    }
                }
                else
                {
                    validated.Add(argIndex < args.Count ? args[argIndex] : null);
                    argIndex++;
                }

                continue;
            }

            foreach (var single in m)
            {
                var arg = argIndex < args.Count ? args[argIndex] : null;
                if (param.Type == "a")
                {
                    if (single == 'm')
                    {
                        arg = null;
                    }
                    else
                    {
                        var ok = true;
                        if (param.Subtype is { } subtype)
                        {
                            if (single != 'a' && m != subtype)
                            {
                                ok = false;
                            }
                            else if (single == 'a' && arg is JList { Count: > 0 } list)
                            {
                                var itemType = Symbol(list[0]);
                                ok = itemType == subtype[0] && list.All(v => Symbol(v) == itemType);
                            }
                        }

                        if (!ok)
                        {
                            throw new JsonataException("T0412", value: arg, index: argIndex + 1);
                        }

                        if (single != 'a')
                        {
                            arg = new JList { arg };
                        }
                    }
                }

                validated.Add(arg);
                argIndex++;
            }
        }

        return validated;
    }

    private void ThrowValidationError(List<object?> args, string sig)
    {
        var partial = "^";
        var goodTo = 0;
        foreach (var p in _params)
        {
            partial += p.Regex;
            var m = Regex.Match(sig, partial, RegexOptions.CultureInvariant);
            if (!m.Success)
            {
                break;
            }

            goodTo = m.Length;
        }

        throw new JsonataException("T0410", value: goodTo < args.Count ? args[goodTo] : null, index: goodTo + 1);
    }
}
