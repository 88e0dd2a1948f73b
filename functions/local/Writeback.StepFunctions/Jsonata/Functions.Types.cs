namespace Writeback.StepFunctions.Jsonata;

/// <summary>A function value: a lambda from the expression, a library function, a partial application or a regex.</summary>
public abstract class JFunc
{
    internal abstract int Arity { get; }
}

internal sealed class Frame
{
    private readonly Dictionary<string, object?> _bindings = new(StringComparer.Ordinal);
    private readonly Frame? _parent;

    public Frame(Frame? parent)
    {
        _parent = parent;
        Timestamp = parent?.Timestamp ?? DateTimeOffset.UtcNow;
        Randomness = parent?.Randomness;
    }

    public DateTimeOffset Timestamp { get; set; }

    public IJsonataRandomness? Randomness { get; set; }

    public void Bind(string name, object? value) => _bindings[name] = value;

    public object? Lookup(string name)
    {
        for (var f = this; f is not null; f = f._parent)
        {
            if (f._bindings.TryGetValue(name, out var v))
            {
                return v;
            }
        }

        return null;
    }

    public bool IsBound(string name) => Lookup(name) is not null;
}

internal sealed class Lambda : JFunc
{
    public required Node? Body { get; init; }

    public required List<Node> Params { get; init; }

    public required Frame Env { get; init; }

    public object? Input { get; init; }

    public Signature? Signature { get; init; }

    public bool Thunk { get; init; }

    internal override int Arity => Params.Count;
}

/// <summary>What a library function sees besides its arguments: the context value and a way to call other functions.</summary>
internal sealed class CallContext(Evaluator evaluator, object? input, Frame env)
{
    public Evaluator Evaluator { get; } = evaluator;

    public object? Input { get; } = input;

    public Frame Env { get; } = env;

    public object? Call(JFunc f, params object?[] args) => Evaluator.Apply(f, [.. args], null, Env);

    /// <summary>Calls a callback with as many of (value, index, array) as it declares, as the higher-order functions do.</summary>
    public object? CallWithArity(JFunc f, params object?[] args) => Call(f, [.. args.Take(Math.Max(1, Math.Min(args.Length, f.Arity)))]);
}

internal sealed class NativeFunc(string name, string? signature, Func<CallContext, List<object?>, object?> implementation, int arity = -1) : JFunc
{
    public string Name { get; } = name;

    public Signature? Signature { get; } = signature is null ? null : Signature.Parse(signature);

    public Func<CallContext, List<object?>, object?> Implementation { get; } = implementation;

    internal override int Arity => arity >= 0 ? arity : Signature?.Arity ?? 0;
}

/// <summary>A native function with some arguments fixed by <c>$f(?, 2)</c>; the holes are filled in order.</summary>
internal sealed class PartialNative(NativeFunc function, List<object?> bound, List<bool> holes) : JFunc
{
    public NativeFunc Function { get; } = function;

    public List<object?> Bound { get; } = bound;

    public List<bool> Holes { get; } = holes;

    internal override int Arity => Holes.Count(h => h);
}

internal sealed class RegexFunc(JsRegex regex) : JFunc
{
    public JsRegex Regex { get; } = regex;

    internal override int Arity => 1;
}
