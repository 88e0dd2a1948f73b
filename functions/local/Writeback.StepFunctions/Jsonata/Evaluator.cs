using System.Runtime.CompilerServices;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>Walks the processed syntax tree; values are those of <see cref="Values"/>, C# null being undefined.</summary>
internal sealed partial class Evaluator
{
    private static readonly Node ChainAst = Parser.Parse("function($f, $g) { function($x){ $g($f($x)) } }");

    private int _depth;

    public int MaxDepth { get; init; } = 2000;

    /// <summary>When set, evaluation stops with D1012 past this instant (an infinite loop must not hang a state).</summary>
    public long DeadlineTicks { get; init; } = long.MaxValue;

    public object? Evaluate(Node expr, object? input, Frame env)
    {
        if (++_depth > MaxDepth || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            _depth = 0;
            throw new JsonataException("D1011", expr.Position);
        }

        if (Environment.TickCount64 > DeadlineTicks)
        {
            throw new JsonataException("D1012", expr.Position);
        }

        object? result = expr.Type switch
        {
            "path" => EvaluatePath(expr, input, env),
            "binary" => EvaluateBinary(expr, input, env),
            "unary" => EvaluateUnary(expr, input, env),
            "name" => Lookup(input, (string)expr.Value!),
            "string" or "number" or "value" => expr.Value,
            "wildcard" => EvaluateWildcard(input),
            "descendant" => EvaluateDescendants(input),
            "parent" => env.Lookup(expr.Slot!.Label),
            "condition" => EvaluateCondition(expr, input, env),
            "block" => EvaluateBlock(expr, input, env),
            "bind" => EvaluateBind(expr, input, env),
            "regex" => new RegexFunc((JsRegex)expr.Value!),
            "function" => EvaluateFunction(expr, input, env, hasContext: false, null),
            "variable" => EvaluateVariable(expr, input, env),
            "lambda" => new Lambda { Body = expr.Body, Params = expr.Arguments, Env = env, Input = input, Signature = expr.Signature, Thunk = expr.Thunk },
            "partial" => EvaluatePartial(expr, input, env),
            "apply" => EvaluateApply(expr, input, env),
            "transform" => EvaluateTransform(expr, env),
            _ => throw new JsonataException("S0206", expr.Position, expr.Type),
        };

        if (expr.Predicate is not null)
        {
            foreach (var p in expr.Predicate)
            {
                result = EvaluateFilter(p.Expression!, result, env);
            }
        }

        if (expr.Type != "path" && expr.Group is not null)
        {
            result = EvaluateGroup(expr.Group.Pairs, expr.Group.Position, result, env);
        }

        if (result is JList { Sequence: true, TupleStream: false } seq)
        {
            if (expr.KeepArray)
            {
                seq.KeepSingleton = true;
            }

            if (seq.Count == 0)
            {
                result = null;
            }
            else if (seq.Count == 1)
            {
                result = seq.KeepSingleton ? seq : seq[0];
            }
        }

        _depth--;
        return result;
    }

    private object? EvaluateCondition(Node expr, object? input, Frame env)
    {
        var condition = Evaluate(expr.Condition!, input, env);
        if (Library.Boolean(condition) == true)
        {
            return Evaluate(expr.Then!, input, env);
        }

        return expr.Else is null ? null : Evaluate(expr.Else, input, env);
    }

    private object? EvaluateBlock(Node expr, object? input, Frame env)
    {
        object? result = null;
        var frame = new Frame(env);
        foreach (var e in expr.Expressions)
        {
            result = Evaluate(e, input, frame);
        }

        return result;
    }

    private object? EvaluateBind(Node expr, object? input, Frame env)
    {
        var value = Evaluate(expr.Rhs!, input, env);
        env.Bind((string)expr.Lhs!.Value!, value);
        return value;
    }

    private static object? EvaluateVariable(Node expr, object? input, Frame env)
    {
        var name = (string)expr.Value!;
        if (name.Length == 0)
        {
            return input is JList { OuterWrapper: true } w ? w[0] : input;
        }

        return env.Lookup(name);
    }
}
