namespace Writeback.StepFunctions.Jsonata;

/// <summary>A Pratt parser (top-down operator precedence) from tokens to <see cref="Node"/>s.</summary>
internal sealed partial class Parser
{
    private static readonly Dictionary<string, int> LeftBindingPower = new(StringComparer.Ordinal)
    {
        ["."] = 75, ["+"] = 50, ["-"] = 50, ["*"] = 60, ["/"] = 60, ["%"] = 60, ["="] = 40, ["<"] = 40, [">"] = 40,
        ["!="] = 40, ["<="] = 40, [">="] = 40, ["&"] = 50, ["and"] = 30, ["or"] = 25, ["in"] = 40, ["~>"] = 40, ["??"] = 40,
        ["("] = 80, ["["] = 80, ["^"] = 40, ["{"] = 70, [":="] = 10, ["@"] = 80, ["#"] = 80, ["?"] = 20, ["?:"] = 40,
        ["**"] = 0, ["|"] = 0, [":"] = 0, [";"] = 0, [","] = 0, [")"] = 0, ["]"] = 0, ["}"] = 0, [".."] = 0,
    };

    private readonly string _source;
    private readonly Lexer _lexer;
    private Node _node = new("(end)", null, 0);
    private string _id = "(end)";

    private Parser(string source, bool version206)
    {
        _source = source;
        _lexer = new Lexer(source, version206);
    }

    /// <param name="version206">Refuse the ?? and ?: operators, which JSONata gained in 2.1.0, after the 2.0.6 Step Functions runs.</param>
    public static Node Parse(string source, bool version206 = false)
    {
        var parser = new Parser(source, version206);
        parser.Advance();
        var expr = parser.Expression(0);
        if (parser._id != "(end)")
        {
            throw new JsonataException("S0201", parser._node.Position, parser._node.Value?.ToString());
        }

        return parser.Process(expr);
    }

    private int Lbp => LeftBindingPower.GetValueOrDefault(_id);

    private Node Advance(string? id = null, bool infix = false)
    {
        if (id is not null && _id != id)
        {
            throw new JsonataException(_id == "(end)" ? "S0203" : "S0202", _node.Position, TokenText(_node), id);
        }

        var token = _lexer.Next(infix);
        if (token is not { } t)
        {
            _id = "(end)";
            _node = new Node("(end)", "(end)", _source.Length);
            return _node;
        }

        switch (t.Type)
        {
            case "name":
            case "variable":
                _id = "(name)";
                break;
            case "operator":
                _id = (string)t.Value!;
                if (!LeftBindingPower.ContainsKey(_id))
                {
                    throw new JsonataException("S0204", t.Position, _id);
                }

                break;
            case "regex":
                _id = "(regex)";
                break;
            default:
                _id = "(literal)";
                break;
        }

        _node = new Node(t.Type, t.Value, t.Position);
        return _node;
    }

    private static string? TokenText(Node n) => n.Value switch
    {
        null => null,
        string s => s,
        double d => Values.FormatNumber(d),
        bool b => b ? "true" : "false",
        JNull => "null",
        _ => n.Value.ToString(),
    };

    private Node Expression(int rbp)
    {
        var t = _node;
        var tid = _id;
        Advance(null, infix: true);
        var left = Nud(tid, t);
        while (rbp < Lbp)
        {
            t = _node;
            tid = _id;
            Advance();
            left = Led(tid, t, left);
        }

        return left;
    }

    private Node Nud(string id, Node t)
    {
        switch (id)
        {
            case "(name)":
            case "(literal)":
            case "(regex)":
            case "(end)":
            case "and":
            case "or":
            case "in":
                return t;
            case "-":
                t.Expression = Expression(70);
                t.Type = "unary";
                return t;
            case "*":
                t.Type = "wildcard";
                return t;
            case "**":
                t.Type = "descendant";
                return t;
            case "%":
                t.Type = "parent";
                return t;
            case "(":
                while (_id != ")")
                {
                    t.Expressions.Add(Expression(0));
                    if (_id != ";")
                    {
                        break;
                    }

                    Advance(";");
                }

                Advance(")", infix: true);
                t.Type = "block";
                return t;
            case "[":
                if (_id != "]")
                {
                    while (true)
                    {
                        var item = Expression(0);
                        if (_id == "..")
                        {
                            var range = new Node("binary", "..", _node.Position) { Lhs = item };
                            Advance("..");
                            range.Rhs = Expression(0);
                            item = range;
                        }

                        t.Expressions.Add(item);
                        if (_id != ",")
                        {
                            break;
                        }

                        Advance(",");
                    }
                }

                Advance("]", infix: true);
                t.Type = "unary";
                return t;
            case "{":
                t.Pairs = ObjectPairs();
                t.Type = "unary";
                return t;
            case "|":
                t.Type = "transform";
                t.Pattern = Expression(0);
                Advance("|");
                t.Update = Expression(0);
                if (_id == ",")
                {
                    Advance(",");
                    t.Delete = Expression(0);
                }

                Advance("|");
                return t;
            default:
                throw new JsonataException("S0211", t.Position, TokenText(t));
        }
    }

    private List<(Node, Node)> ObjectPairs()
    {
        var pairs = new List<(Node, Node)>();
        if (_id != "}")
        {
            while (true)
            {
                var n = Expression(0);
                Advance(":");
                var v = Expression(0);
                pairs.Add((n, v));
                if (_id != ",")
                {
                    break;
                }

                Advance(",");
            }
        }

        Advance("}", infix: true);
        return pairs;
    }

    private Node Led(string id, Node t, Node left)
    {
        switch (id)
        {
            case "(":
                return Call(t, left);
            case "[":
                if (_id == "]")
                {
                    var step = left;
                    while (step is { Type: "binary", Op: "[" })
                    {
                        step = step.Lhs!;
                    }

                    step.KeepArray = true;
                    Advance("]");
                    return left;
                }

                t.Lhs = left;
                t.Rhs = Expression(0);
                t.Type = "binary";
                Advance("]", infix: true);
                return t;
            case "^":
                Advance("(");
                while (true)
                {
                    var descending = false;
                    if (_id == "<")
                    {
                        Advance("<");
                    }
                    else if (_id == ">")
                    {
                        descending = true;
                        Advance(">");
                    }

                    t.Terms.Add((descending, Expression(0)));
                    if (_id != ",")
                    {
                        break;
                    }

                    Advance(",");
                }

                Advance(")");
                t.Lhs = left;
                t.Type = "binary";
                return t;
            case "{":
                t.Pairs = ObjectPairs();
                t.Lhs = left;
                t.Type = "binary";
                return t;
            case ":=":
                if (left.Type != "variable")
                {
                    throw new JsonataException("S0212", left.Position, TokenText(left));
                }

                t.Lhs = left;
                t.Rhs = Expression(LeftBindingPower[":="] - 1);
                t.Type = "binary";
                return t;
            case "@":
            case "#":
                t.Lhs = left;
                t.Rhs = Expression(80);
                if (t.Rhs.Type != "variable")
                {
                    throw new JsonataException("S0214", t.Rhs.Position, id);
                }

                t.Type = "binary";
                return t;
            case "?":
                t.Type = "condition";
                t.Condition = left;
                t.Then = Expression(0);
                if (_id == ":")
                {
                    Advance(":");
                    t.Else = Expression(0);
                }

                return t;
            case "?:":
                t.Type = "condition";
                t.Condition = Clone(left);
                t.Then = left;
                t.Else = Expression(0);
                return t;
            case "??":
                t.Type = "condition";
                t.Condition = new Node("function", "(", t.Position)
                {
                    Procedure = new Node("variable", "exists", t.Position),
                    Arguments = [Clone(left)],
                };
                t.Then = left;
                t.Else = Expression(0);
                return t;
            default:
                if (!LeftBindingPower.TryGetValue(id, out var bp) || bp == 0)
                {
                    throw new JsonataException("S0201", t.Position, id);
                }

                t.Lhs = left;
                t.Rhs = Expression(bp);
                t.Type = "binary";
                return t;
        }
    }

    private Node Call(Node t, Node left)
    {
        t.Procedure = left;
        t.Type = "function";
        if (_id != ")")
        {
            while (true)
            {
                if (_node.Type == "operator" && _id == "?")
                {
                    t.Type = "partial";
                    t.Arguments.Add(_node);
                    Advance("?");
                }
                else
                {
                    t.Arguments.Add(Expression(0));
                }

                if (_id != ",")
                {
                    break;
                }

                Advance(",");
            }
        }

        Advance(")", infix: true);
        if (left.Type == "name" && left.Value is "function" or "\u03BB")
        {
            for (var i = 0; i < t.Arguments.Count; i++)
            {
                if (t.Arguments[i].Type != "variable")
                {
                    throw new JsonataException("S0208", t.Arguments[i].Position, TokenText(t.Arguments[i]), i + 1);
                }
            }

            t.Type = "lambda";
            if (_id == "<")
            {
                var depth = 1;
                var sig = "<";
                while (depth > 0 && _id != "{" && _id != "(end)")
                {
                    var tok = Advance();
                    if (_id == ">")
                    {
                        depth--;
                    }
                    else if (_id == "<")
                    {
                        depth++;
                    }

                    sig += TokenText(tok);
                }

                Advance(">");
                t.Signature = Signature.Parse(sig);
            }

            Advance("{");
            t.Body = Expression(0);
            Advance("}");
        }

        return t;
    }

    private static Node Clone(Node n)
    {
        var c = n.ShallowCopy();
        c.Lhs = n.Lhs is null ? null : Clone(n.Lhs);
        c.Rhs = n.Rhs is null ? null : Clone(n.Rhs);
        c.Expression = n.Expression is null ? null : Clone(n.Expression);
        c.Expressions = [.. n.Expressions.Select(Clone)];
        c.Pairs = [.. n.Pairs.Select(p => (Clone(p.Key), Clone(p.Value)))];
        c.Arguments = [.. n.Arguments.Select(Clone)];
        c.Procedure = n.Procedure is null ? null : Clone(n.Procedure);
        c.Body = n.Body is null ? null : Clone(n.Body);
        c.Condition = n.Condition is null ? null : Clone(n.Condition);
        c.Then = n.Then is null ? null : Clone(n.Then);
        c.Else = n.Else is null ? null : Clone(n.Else);
        c.Pattern = n.Pattern is null ? null : Clone(n.Pattern);
        c.Update = n.Update is null ? null : Clone(n.Update);
        c.Delete = n.Delete is null ? null : Clone(n.Delete);
        c.Terms = [.. n.Terms.Select(x => (x.Descending, Clone(x.Expression)))];
        return c;
    }
}
