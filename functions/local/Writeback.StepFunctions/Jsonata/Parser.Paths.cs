namespace Writeback.StepFunctions.Jsonata;

/// <summary>
/// The post-pass: location paths become step lists, predicates become stages, and parent references (<c>%</c>)
/// are resolved to the tuple variable of the step they point at. Lambda bodies get tail calls turned into thunks.
/// </summary>
internal sealed partial class Parser
{
    private Node Process(Node expr)
    {
        var result = ProcessNode(expr);
        if (result.Type == "parent" || result.SeekingParent is not null)
        {
            throw new JsonataException("S0217", result.Position, result.Type);
        }

        return result;
    }

    private static Node TailCallOptimize(Node expr)
    {
        if (expr.Type == "function" && expr.Predicate is null)
        {
            return new Node("lambda", null, expr.Position) { Thunk = true, Body = expr };
        }

        if (expr.Type == "condition")
        {
            expr.Then = TailCallOptimize(expr.Then!);
            if (expr.Else is not null)
            {
                expr.Else = TailCallOptimize(expr.Else);
            }
        }
        else if (expr.Type == "block" && expr.Expressions.Count > 0)
        {
            expr.Expressions[^1] = TailCallOptimize(expr.Expressions[^1]);
        }

        return expr;
    }

    private Node ProcessNode(Node expr)
    {
        Node result;
        switch (expr.Type)
        {
            case "binary":
                result = ProcessBinary(expr);
                break;
            case "unary":
                result = new Node("unary", expr.Value, expr.Position);
                if (expr.Op == "[")
                {
                    foreach (var item in expr.Expressions)
                    {
                        var value = ProcessNode(item);
                        PushAncestry(result, value);
                        result.Expressions.Add(value);
                    }
                }
                else if (expr.Op == "{")
                {
                    foreach (var (k, v) in expr.Pairs)
                    {
                        var key = ProcessNode(k);
                        PushAncestry(result, key);
                        var value = ProcessNode(v);
                        PushAncestry(result, value);
                        result.Pairs.Add((key, value));
                    }
                }
                else
                {
                    result.Expression = ProcessNode(expr.Expression!);
                    if (expr.Op == "-" && result.Expression.Type == "number")
                    {
                        result = result.Expression;
                        result.Value = -(double)result.Value!;
                    }
                    else
                    {
                        PushAncestry(result, result.Expression);
                    }
                }

                break;
            case "function":
            case "partial":
                result = new Node(expr.Type, expr.Value, expr.Position);
                foreach (var arg in expr.Arguments)
                {
                    var a = ProcessNode(arg);
                    PushAncestry(result, a);
                    result.Arguments.Add(a);
                }

                result.Procedure = ProcessNode(expr.Procedure!);
                break;
            case "lambda":
                result = new Node("lambda", null, expr.Position) { Arguments = expr.Arguments, Signature = expr.Signature };
                result.Body = TailCallOptimize(ProcessNode(expr.Body!));
                break;
            case "condition":
                result = new Node("condition", null, expr.Position) { Condition = ProcessNode(expr.Condition!) };
                PushAncestry(result, result.Condition);
                result.Then = ProcessNode(expr.Then!);
                PushAncestry(result, result.Then);
                if (expr.Else is not null)
                {
                    result.Else = ProcessNode(expr.Else);
                    PushAncestry(result, result.Else);
                }

                break;
            case "transform":
                result = new Node("transform", null, expr.Position)
                {
                    Pattern = ProcessNode(expr.Pattern!),
                    Update = ProcessNode(expr.Update!),
                    Delete = expr.Delete is null ? null : ProcessNode(expr.Delete),
                };
                break;
            case "block":
                result = new Node("block", null, expr.Position);
                foreach (var item in expr.Expressions)
                {
                    var part = ProcessNode(item);
                    PushAncestry(result, part);
                    if (part.ConsArray || (part.Type == "path" && part.Steps[0].ConsArray))
                    {
                        result.ConsArray = true;
                    }

                    result.Expressions.Add(part);
                }

                break;
            case "name":
                result = new Node("path", null, expr.Position) { Steps = [expr], KeepSingletonArray = expr.KeepArray };
                break;
            case "parent":
                result = new Node("parent", null, expr.Position)
                {
                    Slot = new AncestorSlot { Label = "!" + _ancestorLabel++, Level = 1, Index = _ancestorIndex++ },
                };
                _ancestry.Add(result);
                break;
            case "string":
            case "number":
            case "value":
            case "wildcard":
            case "descendant":
            case "variable":
            case "regex":
                result = expr;
                break;
            case "operator":
                if (expr.Op is "and" or "or" or "in")
                {
                    expr.Type = "name";
                    result = ProcessNode(expr);
                }
                else if (expr.Op == "?")
                {
                    result = expr;
                }
                else
                {
                    throw new JsonataException("S0201", expr.Position, expr.Op);
                }

                break;
            default:
                throw new JsonataException(expr.Type == "(end)" ? "S0207" : "S0206", expr.Position, expr.Value?.ToString());
        }

        if (expr.KeepArray)
        {
            result.KeepArray = true;
        }

        return result;
    }

    private Node ProcessBinary(Node expr)
    {
        Node result;
        Node step;
        switch (expr.Op)
        {
            case ".":
                var lstep = ProcessNode(expr.Lhs!);
                result = lstep.Type == "path" ? lstep : new Node("path", null, lstep.Position) { Steps = [lstep] };
                if (lstep.Type == "parent")
                {
                    result.SeekingParent = [lstep.Slot!];
                }

                var rest = ProcessNode(expr.Rhs!);
                if (rest.Type == "path")
                {
                    result.Steps.AddRange(rest.Steps);
                }
                else
                {
                    if (rest.Predicate is not null)
                    {
                        rest.Stages = rest.Predicate;
                        rest.Predicate = null;
                    }

                    result.Steps.Add(rest);
                }

                foreach (var s in result.Steps)
                {
                    if (s.Type is "number" or "value")
                    {
                        throw new JsonataException("S0213", s.Position, value: s.Value);
                    }

                    if (s.Type == "string")
                    {
                        s.Type = "name";
                    }
                }

                if (result.Steps.Any(s => s.KeepArray))
                {
                    result.KeepSingletonArray = true;
                }

                if (result.Steps[0] is { Type: "unary", Op: "[" } first)
                {
                    first.ConsArray = true;
                }

                if (result.Steps[^1] is { Type: "unary", Op: "[" } last)
                {
                    last.ConsArray = true;
                }

                ResolveAncestry(result);
                return result;
            case "[":
                result = ProcessNode(expr.Lhs!);
                step = result;
                var stages = false;
                if (result.Type == "path")
                {
                    step = result.Steps[^1];
                    stages = true;
                }

                if (step.Group is not null)
                {
                    throw new JsonataException("S0209", expr.Position);
                }

                var predicate = ProcessNode(expr.Rhs!);
                if (predicate.SeekingParent is not null)
                {
                    foreach (var slot in predicate.SeekingParent)
                    {
                        if (slot.Level == 1)
                        {
                            SeekParent(step, slot);
                        }
                        else
                        {
                            slot.Level--;
                        }
                    }

                    PushAncestry(step, predicate);
                }

                var filter = new Node("filter", null, expr.Position) { Expression = predicate };
                if (stages)
                {
                    (step.Stages ??= []).Add(filter);
                }
                else
                {
                    (step.Predicate ??= []).Add(filter);
                }

                return result;
            case "{":
                result = ProcessNode(expr.Lhs!);
                if (result.Group is not null)
                {
                    throw new JsonataException("S0210", expr.Position);
                }

                result.Group = new GroupBy { Pairs = [.. expr.Pairs.Select(p => (ProcessNode(p.Key), ProcessNode(p.Value)))], Position = expr.Position };
                return result;
            case "^":
                result = ProcessNode(expr.Lhs!);
                if (result.Type != "path")
                {
                    result = new Node("path", null, result.Position) { Steps = [result] };
                }

                var sort = new Node("sort", null, expr.Position);
                foreach (var (descending, e) in expr.Terms)
                {
                    var expression = ProcessNode(e);
                    PushAncestry(sort, expression);
                    sort.Terms.Add((descending, expression));
                }

                result.Steps.Add(sort);
                ResolveAncestry(result);
                return result;
            case ":=":
                result = new Node("bind", expr.Value, expr.Position) { Lhs = ProcessNode(expr.Lhs!), Rhs = ProcessNode(expr.Rhs!) };
                PushAncestry(result, result.Rhs);
                return result;
            case "@":
                result = ProcessNode(expr.Lhs!);
                step = result.Type == "path" ? result.Steps[^1] : result;
                if (step.Stages is not null || step.Predicate is not null)
                {
                    throw new JsonataException("S0215", expr.Position);
                }

                if (step.Type == "sort")
                {
                    throw new JsonataException("S0216", expr.Position);
                }

                if (expr.KeepArray)
                {
                    step.KeepArray = true;
                }

                step.Focus = (string)expr.Rhs!.Value!;
                step.Tuple = true;
                return result;
            case "#":
                result = ProcessNode(expr.Lhs!);
                step = result;
                if (result.Type == "path")
                {
                    step = result.Steps[^1];
                }
                else
                {
                    result = new Node("path", null, result.Position) { Steps = [result] };
                    if (step.Predicate is not null)
                    {
                        step.Stages = step.Predicate;
                        step.Predicate = null;
                    }
                }

                if (step.Stages is null)
                {
                    step.IndexVar = (string)expr.Rhs!.Value!;
                }
                else
                {
                    step.Stages.Add(new Node("index", expr.Rhs!.Value, expr.Position));
                }

                step.Tuple = true;
                return result;
            case "~>":
                result = new Node("apply", expr.Value, expr.Position) { Lhs = ProcessNode(expr.Lhs!), Rhs = ProcessNode(expr.Rhs!) };
                result.KeepArray = result.Lhs.KeepArray || result.Rhs.KeepArray;
                return result;
            default:
                result = new Node("binary", expr.Value, expr.Position) { Lhs = ProcessNode(expr.Lhs!), Rhs = ProcessNode(expr.Rhs!) };
                PushAncestry(result, result.Lhs);
                PushAncestry(result, result.Rhs);
                return result;
        }
    }
}
