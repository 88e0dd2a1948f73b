using System.Text.Json.Nodes;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>A compiled JSONata expression. Evaluation is synchronous and uses no reflection, so it is safe under Native AOT.</summary>
public sealed class JsonataExpression
{
    private static readonly Frame StaticFrame = Library.CreateStaticFrame();
    private readonly Node _ast;

    private JsonataExpression(Node ast, string source)
    {
        _ast = ast;
        Source = source;
    }

    public string Source { get; }

    /// <exception cref="JsonataException">The expression is not valid JSONata.</exception>
    public static JsonataExpression Compile(string expression) => new(Parser.Parse(expression), expression);

    /// <summary>Compiles as Step Functions does: JSONata 2.0.6, so without the later ?? and ?: operators.</summary>
    public static JsonataExpression CompileForStepFunctions(string expression) => new(Parser.Parse(expression, version206: true), expression);

    /// <summary>Evaluates over an input (C# null: no input) with variables; the result is undefined when <c>Defined</c> is false.</summary>
    public (bool Defined, JsonNode? Value) Evaluate(JsonNode? input, bool hasInput, IReadOnlyDictionary<string, JsonNode?>? bindings = null)
    {
        var value = EvaluateValue(hasInput ? Values.FromJson(input) : null, bindings?.ToDictionary(b => b.Key, b => Values.FromJson(b.Value)));
        return value is null ? (false, null) : (true, Values.ToJson(value));
    }

    /// <summary>Evaluates over values of the <see cref="Values"/> model; returns C# null for undefined.</summary>
    /// <param name="randomness">What $random, $uuid and $shuffle draw from; null: the process's shared randomness.</param>
    public object? EvaluateValue(object? input, IReadOnlyDictionary<string, object?>? bindings = null, int maxDepth = 2000, TimeSpan? timeLimit = null,
        IJsonataRandomness? randomness = null)
    {
        var env = new Frame(StaticFrame) { Timestamp = DateTimeOffset.UtcNow, Randomness = randomness };
        if (bindings is not null)
        {
            foreach (var (k, v) in bindings)
            {
                env.Bind(k, v);
            }
        }

        env.Bind("$", input);
        if (input is JList { Sequence: false } array)
        {
            var wrapper = new JList { Sequence = true, OuterWrapper = true };
            wrapper.Add(array);
            input = wrapper;
        }

        var result = new Evaluator
        {
            MaxDepth = maxDepth,
            DeadlineTicks = timeLimit is { } limit ? Environment.TickCount64 + (long)limit.TotalMilliseconds : long.MaxValue,
        }.Evaluate(_ast, input, env);
        return result is JList { Sequence: true } seq ? Unwrap(seq) : result;
    }

    private static object? Unwrap(JList seq) => seq.Count switch
    {
        0 => null,
        1 when !seq.KeepSingleton => seq[0],
        _ => seq,
    };
}
