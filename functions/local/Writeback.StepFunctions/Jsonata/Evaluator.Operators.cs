namespace Writeback.StepFunctions.Jsonata;

/// <summary>Operators, constructors, grouping, ordering and transforms.</summary>
internal sealed partial class Evaluator
{
    private object? EvaluateBinary(Node expr, object? input, Frame env)
    {
        var lhs = Evaluate(expr.Lhs!, input, env);
        var op = expr.Op;
        try
        {
            if (op is "and" or "or")
            {
                var l = Library.Boolean(lhs) == true;
                if (op == "and")
                {
                    return l && Library.Boolean(Evaluate(expr.Rhs!, input, env)) == true;
                }

                return l || Library.Boolean(Evaluate(expr.Rhs!, input, env)) == true;
            }

            var rhs = Evaluate(expr.Rhs!, input, env);
            return op switch
            {
                "+" or "-" or "*" or "/" or "%" => Numeric(lhs, rhs, op),
                "=" => lhs is not null && rhs is not null && Values.DeepEqual(lhs, rhs),
                "!=" => lhs is not null && rhs is not null && !Values.DeepEqual(lhs, rhs),
                "<" or "<=" or ">" or ">=" => Compare(lhs, rhs, op),
                "&" => (lhs is null ? "" : Library.String(lhs)) + (rhs is null ? "" : Library.String(rhs)),
                ".." => Range(lhs, rhs),
                "in" => In(lhs, rhs),
                _ => throw new JsonataException("S0201", expr.Position, op),
            };
        }
        catch (JsonataException e) when (e.Position < 0)
        {
            e.Position = expr.Position;
            e.Token ??= op;
            throw;
        }
    }

    private static double? Numeric(object? lhs, object? rhs, string op)
    {
        if (lhs is not null && !IsNumeric(lhs))
        {
            throw new JsonataException("T2001", token: op, value: lhs);
        }

        if (rhs is not null && !IsNumeric(rhs))
        {
            throw new JsonataException("T2002", token: op, value: rhs);
        }

        if (lhs is null || rhs is null)
        {
            return null;
        }

        double a = (double)lhs, b = (double)rhs;
        return op switch
        {
            "+" => a + b,
            "-" => a - b,
            "*" => a * b,
            "/" => a / b,
            _ => a % b,
        };
    }

    /// <summary>A number that is not NaN; an infinite one is an error, as in the reference.</summary>
    internal static bool IsNumeric(object? v)
    {
        if (v is double d && !double.IsNaN(d))
        {
            if (double.IsInfinity(d))
            {
                throw new JsonataException("D1001", value: d);
            }

            return true;
        }

        return false;
    }

    private static bool? Compare(object? lhs, object? rhs, string op)
    {
        var lok = lhs is null or string or double;
        var rok = rhs is null or string or double;
        if (!lok || !rok)
        {
            throw new JsonataException("T2010", token: op, value: lhs is string or double ? rhs : lhs);
        }

        if (lhs is null || rhs is null)
        {
            return null;
        }

        if (lhs.GetType() != rhs.GetType())
        {
            throw new JsonataException("T2009", token: op, value: lhs, value2: rhs);
        }

        var c = lhs is double a ? a.CompareTo((double)rhs) : string.CompareOrdinal((string)lhs, (string)rhs);
        return op switch
        {
            "<" => c < 0,
            "<=" => c <= 0,
            ">" => c > 0,
            _ => c >= 0,
        };
    }

    private static bool In(object? lhs, object? rhs)
    {
        if (lhs is null || rhs is null)
        {
            return false;
        }

        var list = rhs as JList ?? new JList { rhs };
        return list.Any(x => x is double or string or bool or JNull ? Values.DeepEqual(x, lhs) : ReferenceEquals(x, lhs));
    }

    private static JList? Range(object? lhs, object? rhs)
    {
        if (lhs is not null && !Values.IsInteger(lhs))
        {
            throw new JsonataException("T2003", value: lhs);
        }

        if (rhs is not null && !Values.IsInteger(rhs))
        {
            throw new JsonataException("T2004", value: rhs);
        }

        if (lhs is null || rhs is null)
        {
            return null;
        }

        double a = (double)lhs, b = (double)rhs;
        if (a > b)
        {
            return null;
        }

        var size = b - a + 1;
        if (size > 1e7)
        {
            throw new JsonataException("D2014", value: size);
        }

        var result = new JList { Sequence = true };
        result.Capacity = (int)size;
        for (var v = a; v <= b; v++)
        {
            result.Add(v);
        }

        return result;
    }

    private object? EvaluateUnary(Node expr, object? input, Frame env)
    {
        switch (expr.Op)
        {
            case "-":
                var v = Evaluate(expr.Expression!, input, env);
                if (v is null)
                {
                    return null;
                }

                if (IsNumeric(v))
                {
                    return -(double)v;
                }

                throw new JsonataException("D1002", expr.Position, "-", v);
            case "[":
                object? result = new JList();
                foreach (var item in expr.Expressions)
                {
                    var value = Evaluate(item, input, env);
                    if (value is null)
                    {
                        continue;
                    }

                    if (item.Op == "[" && item.Type == "unary")
                    {
                        ((JList)result!).Add(value);
                    }
                    else
                    {
                        result = Library.Append(result, value);
                    }
                }

                var list = (JList)result!;
                if (expr.ConsArray)
                {
                    list.Cons = true;
                }

                return list;
            default:
                return EvaluateGroup(expr.Pairs, expr.Position, input, env);
        }
    }

    private JObject EvaluateGroup(List<(Node Key, Node Value)> pairs, int position, object? input, Frame env)
    {
        var reduce = input is JList { TupleStream: true };
        var list = input as JList ?? JList.NewSequence(input);
        if (list.Count == 0 && !reduce)
        {
            list.Add(null);
        }

        var groups = new OrderedDictionary<string, (object? Data, int Index)>(StringComparer.Ordinal);
        foreach (var item in list)
        {
            var frame = reduce ? FrameFromTuple(env, (JTuple)item!) : env;
            for (var p = 0; p < pairs.Count; p++)
            {
                var key = Evaluate(pairs[p].Key, reduce ? ((JTuple)item!).GetValueOrDefault("@") : item, frame);
                if (key is null)
                {
                    continue;
                }

                if (key is not string k)
                {
                    throw new JsonataException("T1003", position, value: key);
                }

                if (groups.TryGetValue(k, out var entry))
                {
                    if (entry.Index != p)
                    {
                        throw new JsonataException("D1009", position, value: k);
                    }

                    groups[k] = (Library.Append(entry.Data, item), p);
                }
                else
                {
                    groups[k] = (item, p);
                }
            }
        }

        var result = new JObject();
        foreach (var (key, (data, index)) in groups)
        {
            var context = data;
            var frame = env;
            if (reduce)
            {
                var tuple = ReduceTupleStream(data);
                context = tuple.GetValueOrDefault("@");
                tuple.Remove("@");
                frame = FrameFromTuple(env, tuple);
            }

            var value = Evaluate(pairs[index].Value, context, frame);
            if (value is not null)
            {
                result[key] = value;
            }
        }

        return result;
    }

    private static JTuple ReduceTupleStream(object? stream)
    {
        if (stream is JTuple single)
        {
            return new JTuple(single);
        }

        var list = (JList)stream!;
        var result = new JTuple((JTuple)list[0]!);
        for (var i = 1; i < list.Count; i++)
        {
            foreach (var (k, v) in (JTuple)list[i]!)
            {
                result[k] = Library.Append(result.GetValueOrDefault(k), v);
            }
        }

        return result;
    }

    private JList EvaluateSort(Node expr, JList input, Frame env)
    {
        var isTupleSort = input.TupleStream;
        int Comparator(object? a, object? b)
        {
            var comp = 0;
            for (var i = 0; comp == 0 && i < expr.Terms.Count; i++)
            {
                var (descending, term) = expr.Terms[i];
                var aa = isTupleSort ? Evaluate(term, ((JTuple)a!).GetValueOrDefault("@"), FrameFromTuple(env, (JTuple)a!)) : Evaluate(term, a, env);
                var bb = isTupleSort ? Evaluate(term, ((JTuple)b!).GetValueOrDefault("@"), FrameFromTuple(env, (JTuple)b!)) : Evaluate(term, b, env);
                if (aa is null)
                {
                    comp = bb is null ? 0 : 1;
                    continue;
                }

                if (bb is null)
                {
                    comp = -1;
                    continue;
                }

                if (aa is not (string or double) || bb is not (string or double))
                {
                    throw new JsonataException("T2008", expr.Position, value: aa is string or double ? bb : aa);
                }

                if (aa.GetType() != bb.GetType())
                {
                    throw new JsonataException("T2007", expr.Position, value: aa, value2: bb);
                }

                comp = aa is double x ? x.CompareTo((double)bb) : string.CompareOrdinal((string)aa, (string)bb);
                comp = Math.Sign(comp);
                if (descending)
                {
                    comp = -comp;
                }
            }

            return comp;
        }

        var sorted = Library.MergeSort([.. input], (a, b) => Comparator(a, b) > 0);
        var result = new JList(sorted) { Sequence = true, TupleStream = input.TupleStream };
        return result;
    }

    private NativeFunc EvaluateTransform(Node expr, Frame env) => new("transform", "<(oa):o>", (ctx, args) =>
    {
        var obj = args.Count > 0 ? args[0] : null;
        if (obj is null)
        {
            return null;
        }

        if (env.Lookup("clone") is not JFunc clone)
        {
            throw new JsonataException("T2013", expr.Position);
        }

        var result = Apply(clone, [obj], null, env);
        var matches = Evaluate(expr.Pattern!, result, env);
        if (matches is null)
        {
            return result;
        }

        var list = matches as JList ?? new JList { matches };
        foreach (var match in list)
        {
            var update = Evaluate(expr.Update!, match, env);
            if (update is not null)
            {
                if (update is not JObject u)
                {
                    throw new JsonataException("T2011", expr.Update!.Position, value: update);
                }

                if (match is JObject m)
                {
                    foreach (var (k, v) in u)
                    {
                        m[k] = v;
                    }
                }
            }

            if (expr.Delete is not null)
            {
                var deletions = Evaluate(expr.Delete, match, env);
                if (deletions is not null)
                {
                    var names = deletions as JList ?? new JList { deletions };
                    if (!Values.IsArrayOfStrings(names))
                    {
                        throw new JsonataException("T2012", expr.Delete.Position, value: deletions);
                    }

                    if (match is JObject m)
                    {
                        foreach (var n in names)
                        {
                            m.Remove((string)n!);
                        }
                    }
                }
            }
        }

        return result;
    });
}
