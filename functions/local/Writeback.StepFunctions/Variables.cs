using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>The service's rules for a workflow variable's name.</summary>
internal static class VariableNames
{
    public const int MaxLength = 80;

    /// <summary>
    /// A Unicode identifier as UAX #31 defines it (an ID_Start character, then ID_Continue characters), at most 80
    /// characters; a leading <c>_</c> is allowed too, as JSONata and LocalStack (tested against the service) allow it.
    /// <c>states</c> is not one: <c>$states</c> is the reserved variable of JSONata states.
    /// </summary>
    public static bool IsValid(string name) => Problem(name) is null;

    /// <summary>Why <paramref name="name"/> cannot be a variable's name, or null when it can.</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0)
        {
            return "a variable name cannot be empty";
        }

        if (name == "states")
        {
            return "'states' is reserved ($states is the state's input, result, error output and context)";
        }

        var runes = name.EnumerateRunes().ToList();
        if (runes.Count > MaxLength)
        {
            return $"a variable name has at most {MaxLength} characters";
        }

        if (!(IsIdStart(runes[0]) || runes[0].Value == '_') || !runes.Skip(1).All(IsIdContinue))
        {
            return "a variable name is a Unicode identifier: a letter or '_' first, then letters, digits, combining marks or connector punctuation such as '_'";
        }

        return null;
    }

    // ID_Start and ID_Continue by their general categories (UAX #31, without the few Other_ID_* exceptions).
    private static bool IsIdStart(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
        or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.LetterNumber;

    private static bool IsIdContinue(Rune r) => IsIdStart(r) || Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark
        or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation;
}

/// <summary>
/// The workflow variables one scope holds: the execution's top-level states share one, and every Parallel branch and
/// Map iteration runs in one of its own that reads the scopes around it but never writes them. A state's Assign is
/// staged while the state runs and takes effect when the state exits, so every expression of a state, and every
/// assignment of one Assign, sees the values the variables had when the state was entered.
/// </summary>
internal sealed class VariableScope : IDisposable
{
    /// <summary>256 KiB: the most one variable may hold, and the most one Assign may assign in all.</summary>
    public const int MaxVariableBytes = 256 * 1024;

    /// <summary>10 MiB: the most the variables of one execution may hold together.</summary>
    public const int MaxExecutionBytes = 10 * 1024 * 1024;

    // The scope of the code running now. Async flow carries it into the branches and iterations a state starts, and
    // an async method that sets it (a branch entering its own scope) never changes its caller's.
    private static readonly AsyncLocal<VariableScope?> CurrentScope = new();

    private readonly Lock _lock = new();
    private readonly VariableScope? _parent;
    private readonly Budget _budget;
    private readonly Dictionary<string, (JsonNode? Value, long Bytes)> _values = new(StringComparer.Ordinal);
    private Dictionary<string, JsonNode?>? _pending;

    private VariableScope(VariableScope? parent, Budget budget)
    {
        _parent = parent;
        _budget = budget;
    }

    /// <summary>The scope of the states running in this flow; an empty, unshared one where none was entered.</summary>
    public static VariableScope Current => CurrentScope.Value ??= Root(null);

    /// <summary>An execution's top-level scope, holding the variables a checkpoint kept (a redrive or restart).</summary>
    public static VariableScope Root(IReadOnlyDictionary<string, JsonNode?>? restored)
    {
        var scope = new VariableScope(null, new Budget());
        foreach (var (name, value) in restored ?? new Dictionary<string, JsonNode?>())
        {
            scope.Set(name, value?.DeepClone(), Json.Utf8Size(value));
        }

        return scope;
    }

    /// <summary>Makes <paramref name="scope"/> the current one for the rest of the calling async method.</summary>
    public static void Enter(VariableScope scope) => CurrentScope.Value = scope;

    /// <summary>A scope for a Parallel branch or a Map iteration: reads this one, writes only its own.</summary>
    public VariableScope Inner() => new(this, _budget);

    /// <summary>The value of a variable visible here (this scope's, else an outer one's); false when none is assigned.</summary>
    public bool TryGet(string name, out JsonNode? value)
    {
        lock (_lock)
        {
            if (_values.TryGetValue(name, out var held))
            {
                value = held.Value;
                return true;
            }
        }

        if (_parent is not null)
        {
            return _parent.TryGet(name, out value);
        }

        value = null;
        return false;
    }

    /// <summary>Every variable visible here, the innermost value for each name (copies).</summary>
    public Dictionary<string, JsonNode?> Visible()
    {
        var all = _parent?.Visible() ?? new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        lock (_lock)
        {
            foreach (var (name, held) in _values)
            {
                all[name] = held.Value?.DeepClone();
            }
        }

        return all;
    }

    /// <summary>This scope's own variables (copies): what a checkpoint of the top-level scope keeps.</summary>
    public Dictionary<string, JsonNode?> Own()
    {
        lock (_lock)
        {
            return _values.ToDictionary(p => p.Key, p => p.Value.Value?.DeepClone(), StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// What the state running in this scope will assign when it exits. A later call replaces an earlier one (a retry
    /// evaluates Assign again; a catcher's Assign replaces the state's); null assigns nothing.
    /// </summary>
    public void Stage(Dictionary<string, JsonNode?>? assignments)
    {
        lock (_lock)
        {
            _pending = assignments;
        }
    }

    /// <summary>
    /// Applies what was staged and returns it (null when nothing was). Fails with States.Runtime when a variable, the
    /// Assign as a whole, or the execution's variables together would pass their size limit.
    /// </summary>
    public Dictionary<string, JsonNode?>? Commit(string stateName)
    {
        Dictionary<string, JsonNode?>? pending;
        lock (_lock)
        {
            pending = _pending;
            _pending = null;
        }

        if (pending is null || pending.Count == 0)
        {
            return pending;
        }

        var sizes = pending.ToDictionary(p => p.Key, p => Json.Utf8Size(p.Value), StringComparer.Ordinal);
        foreach (var (name, bytes) in sizes.Where(s => s.Value > MaxVariableBytes))
        {
            throw StatesException.Runtime(
                $"State '{stateName}': the value assigned to variable '{name}' is {bytes} bytes, more than the {MaxVariableBytes}-byte limit of a variable.");
        }

        var total = sizes.Values.Sum();
        if (total > MaxVariableBytes)
        {
            throw StatesException.Runtime(
                $"State '{stateName}': its Assign assigns {total} bytes in all, more than the {MaxVariableBytes}-byte limit of one Assign.");
        }

        lock (_lock)
        {
            var delta = sizes.Sum(s => s.Value - (_values.TryGetValue(s.Key, out var old) ? old.Bytes : 0));
            if (!_budget.TryAdd(delta, out var held))
            {
                throw StatesException.Runtime(
                    $"State '{stateName}': after its Assign the execution's variables would hold {held + delta} bytes, more than the {MaxExecutionBytes}-byte limit of an execution.");
            }

            foreach (var (name, value) in pending)
            {
                _values[name] = (value, sizes[name]);
            }
        }

        return pending;
    }

    /// <summary>A branch's or iteration's variables end with it: they no longer count toward the execution's limit.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _budget.TryAdd(-_values.Values.Sum(v => v.Bytes), out _);
            _values.Clear();
        }
    }

    private void Set(string name, JsonNode? value, long bytes)
    {
        _values[name] = (value, bytes);
        _budget.TryAdd(bytes, out _);
    }

    /// <summary>The bytes all live scopes of one execution hold together.</summary>
    private sealed class Budget
    {
        private long _held;

        public bool TryAdd(long delta, out long held)
        {
            while (true)
            {
                held = Interlocked.Read(ref _held);
                if (delta > 0 && held + delta > MaxExecutionBytes)
                {
                    return false;
                }

                if (Interlocked.CompareExchange(ref _held, held + delta, held) == held)
                {
                    return true;
                }
            }
        }
    }
}
