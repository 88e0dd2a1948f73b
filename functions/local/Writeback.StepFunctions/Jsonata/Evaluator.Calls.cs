namespace Writeback.StepFunctions.Jsonata;

/// <summary>Function calls: argument validation against signatures, lambdas with tail calls as thunks, partial application.</summary>
internal sealed partial class Evaluator
{
    private object? EvaluateApply(Node expr, object? input, Frame env)
    {
        var lhs = Evaluate(expr.Lhs!, input, env);
        if (expr.Rhs!.Type == "function")
        {
            return EvaluateFunction(expr.Rhs, input, env, hasContext: true, lhs);
        }

        var func = Evaluate(expr.Rhs, input, env);
        if (func is not JFunc f)
        {
            throw new JsonataException("T2006", expr.Position, value: func);
        }

        if (lhs is JFunc g)
        {
            var chain = (JFunc)Evaluate(ChainAst, null, env)!;
            return Apply(chain, [g, f], null, env);
        }

        return Apply(f, [lhs], null, env);
    }

    private object? EvaluateFunction(Node expr, object? input, Frame env, bool hasContext, object? context)
    {
        var proc = Evaluate(expr.Procedure!, input, env);
        if (proc is null && expr.Procedure!.Type == "path" && env.IsBound((string)expr.Procedure.Steps[0].Value!))
        {
            throw new JsonataException("T1005", expr.Position, (string)expr.Procedure.Steps[0].Value!);
        }

        var args = new List<object?>();
        if (hasContext)
        {
            args.Add(context);
        }

        foreach (var a in expr.Arguments)
        {
            args.Add(Evaluate(a, input, env));
        }

        var procName = expr.Procedure!.Type == "path" ? expr.Procedure.Steps[0].Value as string : expr.Procedure.Value as string;
        try
        {
            return Apply(proc, args, input, env);
        }
        catch (JsonataException e)
        {
            if (e.Position < 0)
            {
                e.Position = expr.Position;
            }

            e.Token ??= procName;
            throw;
        }
    }

    public object? Apply(object? proc, List<object?> args, object? input, Frame env)
    {
        var result = ApplyInner(proc, args, input, env);
        while (result is Lambda { Thunk: true } thunk)
        {
            var call = thunk.Body!;
            var next = Evaluate(call.Procedure!, thunk.Input, thunk.Env);
            var evaluated = new List<object?>();
            foreach (var a in call.Arguments)
            {
                evaluated.Add(Evaluate(a, thunk.Input, thunk.Env));
            }

            result = ApplyInner(next, evaluated, input, env);
        }

        return result;
    }

    private object? ApplyInner(object? proc, List<object?> args, object? input, Frame env)
    {
        switch (proc)
        {
            case Lambda lambda:
                var validated = lambda.Signature is null ? args : lambda.Signature.Validate(args, input);
                var frame = new Frame(lambda.Env);
                for (var i = 0; i < lambda.Params.Count; i++)
                {
                    frame.Bind((string)lambda.Params[i].Value!, i < validated.Count ? validated[i] : null);
                }

                return Evaluate(lambda.Body!, lambda.Input, frame);
            case NativeFunc native:
                var nargs = native.Signature is null ? args : native.Signature.Validate(args, input);
                return native.Implementation(new CallContext(this, input, env), nargs);
            case PartialNative partial:
                var filled = new List<object?>();
                var next = 0;
                for (var i = 0; i < partial.Bound.Count; i++)
                {
                    filled.Add(partial.Holes[i] ? (next < args.Count ? args[next++] : null) : partial.Bound[i]);
                }

                return ApplyInner(partial.Function, filled, input, env);
            case RegexFunc regex:
                return Library.RegexMatch(regex.Regex, args.Count > 0 ? args[0] as string ?? "" : "", 0);
            default:
                throw new JsonataException("T1006");
        }
    }

    private static readonly object Hole = new();

    private object? EvaluatePartial(Node expr, object? input, Frame env)
    {
        var args = new List<object?>();
        var holes = new List<bool>();
        foreach (var a in expr.Arguments)
        {
            var hole = a.Type == "operator" && a.Op == "?";
            holes.Add(hole);
            args.Add(hole ? Hole : Evaluate(a, input, env));
        }

        var proc = Evaluate(expr.Procedure!, input, env);
        if (proc is null && expr.Procedure!.Type == "path" && env.IsBound((string)expr.Procedure.Steps[0].Value!))
        {
            throw new JsonataException("T1007", expr.Position, (string)expr.Procedure.Steps[0].Value!);
        }

        switch (proc)
        {
            case Lambda lambda:
                var frame = new Frame(lambda.Env);
                var unbound = new List<Node>();
                for (var i = 0; i < lambda.Params.Count; i++)
                {
                    if (i < holes.Count && holes[i])
                    {
                        unbound.Add(lambda.Params[i]);
                    }
                    else
                    {
                        frame.Bind((string)lambda.Params[i].Value!, i < args.Count ? args[i] : null);
                    }
                }

                return new Lambda { Body = lambda.Body, Params = unbound, Env = frame, Input = lambda.Input };
            case PartialNative earlier:
                // Fill the earlier partial's holes in order; a new '?' stays a hole.
                var bound = new List<object?>();
                var stillHoles = new List<bool>();
                var k = 0;
                for (var i = 0; i < earlier.Bound.Count; i++)
                {
                    if (!earlier.Holes[i])
                    {
                        bound.Add(earlier.Bound[i]);
                        stillHoles.Add(false);
                        continue;
                    }

                    var hole = k >= holes.Count || holes[k];
                    bound.Add(hole ? Hole : args[k]);
                    stillHoles.Add(hole);
                    k++;
                }

                return new PartialNative(earlier.Function, bound, stillHoles);
            case NativeFunc native:
                var arity = native.Arity;
                // Parameters not written at all are bound to undefined, not left open, as in the reference.
                while (args.Count < arity)
                {
                    args.Add(null);
                    holes.Add(false);
                }

                return new PartialNative(native, args, holes);
            default:
                throw new JsonataException("T1008", expr.Position,
                    expr.Procedure!.Type == "path" ? expr.Procedure.Steps[0].Value as string : expr.Procedure.Value as string);
        }
    }
}
