namespace Writeback.StepFunctions.Jsonata;

/// <summary>Location paths: steps mapped over sequences, predicate stages, tuple streams for the binding operators, filters.</summary>
internal sealed partial class Evaluator
{
    private object? EvaluatePath(Node expr, object? input, Frame env)
    {
        var inputSequence = input is JList l && expr.Steps[0].Type != "variable" ? l : JList.NewSequence(input);
        JList? resultSequence = null;
        var isTupleStream = false;
        JList? tupleBindings = null;
        for (var i = 0; i < expr.Steps.Count; i++)
        {
            var step = expr.Steps[i];
            if (step.Tuple)
            {
                isTupleStream = true;
            }

            if (i == 0 && step.ConsArray)
            {
                resultSequence = AsList(Evaluate(step, inputSequence, env));
            }
            else if (isTupleStream)
            {
                tupleBindings = EvaluateTupleStep(step, inputSequence, tupleBindings, env);
            }
            else
            {
                resultSequence = EvaluateStep(step, inputSequence, env, i == expr.Steps.Count - 1);
            }

            if (!isTupleStream && (resultSequence is null || resultSequence.Count == 0))
            {
                break;
            }

            if (step.Focus is null)
            {
                inputSequence = resultSequence!;
            }
        }

        if (isTupleStream)
        {
            if (expr.Tuple)
            {
                resultSequence = tupleBindings;
            }
            else
            {
                resultSequence = JList.NewSequence();
                foreach (var t in tupleBindings!)
                {
                    resultSequence.Add(((JTuple)t!).GetValueOrDefault("@"));
                }
            }
        }

        if (expr.KeepSingletonArray && resultSequence is not null)
        {
            if (resultSequence is { Cons: true, Sequence: false })
            {
                resultSequence = JList.NewSequence(resultSequence);
            }

            resultSequence.KeepSingleton = true;
        }

        if (expr.Group is not null)
        {
            return EvaluateGroup(expr.Group.Pairs, expr.Group.Position, isTupleStream ? tupleBindings : resultSequence, env);
        }

        return resultSequence;
    }

    /// <summary>A consarray first step evaluates to whatever it builds; the path goes on over it as a list.</summary>
    private static JList? AsList(object? value) => value switch
    {
        null => null,
        JList l => l,
        _ => JList.NewSequence(value),
    };

    private static Frame FrameFromTuple(Frame env, JTuple tuple)
    {
        var frame = new Frame(env);
        foreach (var (k, v) in tuple)
        {
            frame.Bind(k, v);
        }

        return frame;
    }

    private JList EvaluateStep(Node expr, JList input, Frame env, bool lastStep)
    {
        if (expr.Type == "sort")
        {
            var sorted = EvaluateSort(expr, input, env);
            return expr.Stages is null ? sorted : EvaluateStages(expr.Stages, sorted, env);
        }

        var result = JList.NewSequence();
        foreach (var item in input)
        {
            var res = Evaluate(expr, item, env);
            if (expr.Stages is not null)
            {
                foreach (var stage in expr.Stages)
                {
                    res = EvaluateFilter(stage.Expression!, res, env);
                }
            }

            if (res is not null)
            {
                result.Add(res);
            }
        }

        if (lastStep && result.Count == 1 && result[0] is JList { Sequence: false } only)
        {
            return only;
        }

        var flat = JList.NewSequence();
        foreach (var res in result)
        {
            if (res is JList { Cons: false } arr)
            {
                flat.AddRange(arr);
            }
            else
            {
                flat.Add(res);
            }
        }

        return flat;
    }

    private JList EvaluateStages(List<Node> stages, JList input, Frame env)
    {
        var result = input;
        foreach (var stage in stages)
        {
            if (stage.Type == "filter")
            {
                result = EvaluateFilter(stage.Expression!, result, env);
            }
            else
            {
                for (var i = 0; i < result.Count; i++)
                {
                    ((JTuple)result[i]!)[(string)stage.Value!] = (double)i;
                }
            }
        }

        return result;
    }

    private JList EvaluateTupleStep(Node expr, JList input, JList? tupleBindings, Frame env)
    {
        JList result;
        if (expr.Type == "sort")
        {
            if (tupleBindings is not null)
            {
                result = EvaluateSort(expr, tupleBindings, env);
            }
            else
            {
                var sorted = EvaluateSort(expr, input, env);
                result = new JList { Sequence = true, TupleStream = true };
                for (var i = 0; i < sorted.Count; i++)
                {
                    var tuple = new JTuple { ["@"] = sorted[i] };
                    if (expr.IndexVar is not null)
                    {
                        tuple[expr.IndexVar] = (double)i;
                    }

                    result.Add(tuple);
                }
            }

            return expr.Stages is null ? result : EvaluateStages(expr.Stages, result, env);
        }

        result = new JList { Sequence = true, TupleStream = true };
        tupleBindings ??= new JList(input.Select(item => (object?)new JTuple { ["@"] = item }));
        foreach (var binding in tupleBindings)
        {
            var t = (JTuple)binding!;
            var stepEnv = FrameFromTuple(env, t);
            var res = Evaluate(expr, t.GetValueOrDefault("@"), stepEnv);
            if (res is null)
            {
                continue;
            }

            var list = res as JList ?? new JList { res };
            for (var b = 0; b < list.Count; b++)
            {
                var tuple = new JTuple(t);
                if (list.TupleStream)
                {
                    foreach (var (k, v) in (JTuple)list[b]!)
                    {
                        tuple[k] = v;
                    }
                }
                else
                {
                    if (expr.Focus is not null)
                    {
                        tuple[expr.Focus] = list[b];
                        tuple["@"] = t.GetValueOrDefault("@");
                    }
                    else
                    {
                        tuple["@"] = list[b];
                    }

                    if (expr.IndexVar is not null)
                    {
                        tuple[expr.IndexVar] = (double)b;
                    }

                    if (expr.Ancestor is not null)
                    {
                        tuple[expr.Ancestor.Label] = t.GetValueOrDefault("@");
                    }
                }

                result.Add(tuple);
            }
        }

        return expr.Stages is null ? result : EvaluateStages(expr.Stages, result, env);
    }

    private JList EvaluateFilter(Node predicate, object? input, Frame env)
    {
        var results = new JList { Sequence = true, TupleStream = input is JList { TupleStream: true } };
        var list = input as JList ?? JList.NewSequence(input);
        if (predicate.Type == "number")
        {
            var index = (int)Math.Floor((double)predicate.Value!);
            if (index < 0)
            {
                index = list.Count + index;
            }

            var item = index >= 0 && index < list.Count ? list[index] : null;
            if (item is JList arr)
            {
                return arr;
            }

            if (item is not null)
            {
                results.Add(item);
            }

            return results;
        }

        for (var index = 0; index < list.Count; index++)
        {
            var item = list[index];
            var context = item;
            var frame = env;
            if (list.TupleStream)
            {
                context = ((JTuple)item!).GetValueOrDefault("@");
                frame = FrameFromTuple(env, (JTuple)item!);
            }

            var res = Evaluate(predicate, context, frame);
            if (Values.IsNumber(res))
            {
                res = new JList { res };
            }

            if (res is JList nums && nums.Count > 0 && Values.IsArrayOfNumbers(nums))
            {
                foreach (var n in nums)
                {
                    var ii = (int)Math.Floor((double)n!);
                    if (ii < 0)
                    {
                        ii = list.Count + ii;
                    }

                    if (ii == index)
                    {
                        results.Add(item);
                    }
                }
            }
            else if (Library.Boolean(res) == true)
            {
                results.Add(item);
            }
        }

        return results;
    }
}
