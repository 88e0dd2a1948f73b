namespace Writeback.StepFunctions.Jsonata;

/// <summary>
/// One node of the syntax tree. The parser builds it from tokens; a post-pass (<see cref="Parser"/>) then rewrites
/// location paths into step lists with predicates, stages and tuple bindings, the shape the evaluator walks.
/// </summary>
internal sealed class Node
{
    public Node(string type, object? value, int position)
    {
        Type = type;
        Value = value;
        Position = position;
    }

    /// <summary>path, binary, unary, name, string, number, value, wildcard, descendant, parent, condition, block, bind,
    /// regex, function, partial, variable, lambda, apply, transform, sort, operator, filter, index.</summary>
    public string Type { get; set; }

    public object? Value { get; set; }

    public int Position { get; set; }

    public string Op => Value as string ?? "";

    public Node? Lhs { get; set; }

    public Node? Rhs { get; set; }

    public Node? Expression { get; set; }

    public List<Node> Expressions { get; set; } = [];

    public List<(Node Key, Node Value)> Pairs { get; set; } = [];

    public List<Node> Steps { get; set; } = [];

    public List<Node>? Predicate { get; set; }

    public List<Node>? Stages { get; set; }

    public GroupBy? Group { get; set; }

    public List<Node> Arguments { get; set; } = [];

    public Node? Procedure { get; set; }

    public Node? Body { get; set; }

    public Signature? Signature { get; set; }

    public Node? Condition { get; set; }

    public Node? Then { get; set; }

    public Node? Else { get; set; }

    public Node? Pattern { get; set; }

    public Node? Update { get; set; }

    public Node? Delete { get; set; }

    public List<(bool Descending, Node Expression)> Terms { get; set; } = [];

    public string? Focus { get; set; }

    public string? IndexVar { get; set; }

    public bool Tuple { get; set; }

    public bool KeepArray { get; set; }

    public bool ConsArray { get; set; }

    public bool KeepSingletonArray { get; set; }

    public bool Thunk { get; set; }

    public AncestorSlot? Ancestor { get; set; }

    public AncestorSlot? Slot { get; set; }

    public List<AncestorSlot>? SeekingParent { get; set; }

    public Node ShallowCopy() => (Node)MemberwiseClone();
}

internal sealed class GroupBy
{
    public required List<(Node Key, Node Value)> Pairs { get; init; }

    public int Position { get; init; }
}

/// <summary>Where a <c>%</c> (parent) reference binds: the label of a tuple variable and how many steps up it is.</summary>
internal sealed class AncestorSlot
{
    public required string Label { get; set; }

    public int Level { get; set; }

    public int Index { get; init; }
}
