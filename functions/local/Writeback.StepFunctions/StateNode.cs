namespace Writeback.StepFunctions;

internal enum StateType { Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map }

/// <summary>StartAt and States: the top level of a definition, a Parallel branch, or a Map's item processor.</summary>
internal sealed class StateGraph
{
    public required string StartAt { get; init; }
    public required Dictionary<string, StateNode> States { get; init; }
}

/// <summary>
/// One state of a loaded, validated definition: what every state type has. Each type is its own subclass
/// (<see cref="PassState"/> … <see cref="MapState"/>) holding only the fields that type takes.
/// </summary>
internal abstract class StateNode
{
    public static readonly JsonPath Root = JsonPath.Parse("$");

    public required string Name { get; init; }

    public abstract StateType Type { get; }

    /// <summary>False for Choice, Succeed and Fail, which take neither Next nor End.</summary>
    public virtual bool HasNextOrEnd => true;

    public string? Next { get; set; }

    public bool End { get; set; }

    /// <summary>A JSONata state leaves the JSONPath fields at their defaults and uses <see cref="Output"/> instead.</summary>
    public bool IsJsonata { get; set; }

    /// <summary>Null means "no data" ({}); <see cref="Root"/> the whole input.</summary>
    public JsonPath? InputPath { get; set; } = Root;

    public JsonPath? OutputPath { get; set; } = Root;

    /// <summary>JSONata: what the state passes on.</summary>
    public JsonataTemplate? Output { get; set; }

    public AssignTemplate? Assign { get; set; }

    /// <summary>Every Assign of the state; all of them write the scope the state is in.</summary>
    public virtual IEnumerable<AssignTemplate> AllAssigns => Assign is null ? [] : [Assign];

    /// <summary>The states this one can go to, with the field that names each (for the definition's checks).</summary>
    public virtual IEnumerable<(string Target, string Field)> Transitions =>
        Next is null ? [] : [(Next, "Next")];

    /// <summary>The Parallel branches or Map item processor this state runs; each is a variable scope of its own.</summary>
    public virtual IEnumerable<StateGraph> InnerGraphs => [];
}

/// <summary>A state that produces a result and places it with ResultPath: Pass, and the <see cref="RetryingState"/>s.</summary>
internal abstract class ResultState : StateNode
{
    /// <summary>Null discards the result (the output is the input); <see cref="StateNode.Root"/> replaces the input.</summary>
    public JsonPath? ResultPath { get; set; } = Root;

    public PayloadTemplate? Parameters { get; set; }
}

/// <summary>Task, Parallel and Map: a state whose work can fail, be retried (Retry) and caught (Catch).</summary>
internal abstract class RetryingState : ResultState
{
    public PayloadTemplate? ResultSelector { get; set; }

    /// <summary>JSONata: what the state works on (Task, Parallel).</summary>
    public JsonataTemplate? Arguments { get; set; }

    public Retrier[] Retry { get; set; } = [];

    public Catcher[] Catch { get; set; } = [];

    /// <summary>The catchers' Assign, one per catcher (null where a catcher has none).</summary>
    public AssignTemplate?[] CatchAssigns { get; set; } = [];

    public override IEnumerable<AssignTemplate> AllAssigns => base.AllAssigns.Concat(CatchAssigns.OfType<AssignTemplate>());

    public override IEnumerable<(string Target, string Field)> Transitions => base.Transitions.Concat(Catch.Select(c => (c.Next, "Catch[].Next")));
}

internal sealed class Retrier
{
    public required string[] ErrorEquals { get; init; }
    public double IntervalSeconds { get; init; } = 1;
    public int MaxAttempts { get; init; } = 3;
    public double BackoffRate { get; init; } = 2.0;
    public double? MaxDelaySeconds { get; init; }
    public bool FullJitter { get; init; }
}

internal sealed class Catcher
{
    public required string[] ErrorEquals { get; init; }
    public required string Next { get; init; }
    public JsonPath? ResultPath { get; init; }

    /// <summary>JSONata states: the state's output when the catcher matches (default: the error output).</summary>
    public JsonataTemplate? Output { get; init; }
}
