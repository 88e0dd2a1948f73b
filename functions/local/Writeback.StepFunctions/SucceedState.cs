namespace Writeback.StepFunctions;

/// <summary>Ends the execution, or its branch or iteration, successfully with its input as the output.</summary>
internal sealed class SucceedState : StateNode
{
    public static readonly HashSet<string> JsonPathFields = ["Type", "Comment", "QueryLanguage", "InputPath", "OutputPath"];
    public static readonly HashSet<string> JsonataFields = ["Type", "Comment", "QueryLanguage", "Output"];

    public override StateType Type => StateType.Succeed;

    public override bool HasNextOrEnd => false;
}
