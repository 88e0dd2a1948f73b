using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Passes its input on, or a fixed Result, shaped by Parameters (JSONPath) or Output (JSONata).</summary>
internal sealed class PassState : ResultState
{
    public static readonly HashSet<string> JsonPathFields = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result"];
    public static readonly HashSet<string> JsonataFields = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "Output"];

    public override StateType Type => StateType.Pass;

    public JsonNode? Result { get; set; }

    /// <summary>A Result of JSON null is a result; no Result field at all is none.</summary>
    public bool HasResult { get; set; }
}

public sealed partial class StateMachineDefinition
{
    private static void ParsePass(PassState state, JsonObject obj)
    {
        state.HasResult = obj.TryGetPropertyValue("Result", out var result);
        state.Result = result?.DeepClone();
    }
}
