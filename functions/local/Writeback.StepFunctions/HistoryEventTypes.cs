namespace Writeback.StepFunctions;

/// <summary>
/// Every history event type the engine records, spelled as GetExecutionHistory spells it: the one place a type name is
/// written, so a misspelt name cannot compile and the set the engine emits can be read off in one screen.
/// </summary>
public static class HistoryEventTypes
{
    public const string ExecutionStarted = "ExecutionStarted";
    public const string ExecutionRedriven = "ExecutionRedriven";
    public const string ExecutionSucceeded = "ExecutionSucceeded";
    public const string ExecutionFailed = "ExecutionFailed";
    public const string ExecutionTimedOut = "ExecutionTimedOut";
    public const string ExecutionAborted = "ExecutionAborted";

    public const string PassStateEntered = "PassStateEntered";
    public const string PassStateExited = "PassStateExited";
    public const string TaskStateEntered = "TaskStateEntered";
    public const string TaskStateExited = "TaskStateExited";
    public const string ChoiceStateEntered = "ChoiceStateEntered";
    public const string ChoiceStateExited = "ChoiceStateExited";
    public const string WaitStateEntered = "WaitStateEntered";
    public const string WaitStateExited = "WaitStateExited";
    public const string SucceedStateEntered = "SucceedStateEntered";
    public const string SucceedStateExited = "SucceedStateExited";
    public const string FailStateEntered = "FailStateEntered";
    public const string ParallelStateEntered = "ParallelStateEntered";
    public const string ParallelStateExited = "ParallelStateExited";
    public const string MapStateEntered = "MapStateEntered";
    public const string MapStateExited = "MapStateExited";

    public const string TaskScheduled = "TaskScheduled";
    public const string TaskStarted = "TaskStarted";
    public const string TaskSucceeded = "TaskSucceeded";
    public const string TaskFailed = "TaskFailed";
    public const string TaskTimedOut = "TaskTimedOut";
    public const string LambdaFunctionScheduled = "LambdaFunctionScheduled";
    public const string LambdaFunctionStarted = "LambdaFunctionStarted";
    public const string LambdaFunctionSucceeded = "LambdaFunctionSucceeded";
    public const string LambdaFunctionFailed = "LambdaFunctionFailed";
    public const string LambdaFunctionTimedOut = "LambdaFunctionTimedOut";

    public const string ParallelStateStarted = "ParallelStateStarted";
    public const string ParallelStateSucceeded = "ParallelStateSucceeded";
    public const string ParallelStateFailed = "ParallelStateFailed";

    public const string MapStateStarted = "MapStateStarted";
    public const string MapStateSucceeded = "MapStateSucceeded";
    public const string MapStateFailed = "MapStateFailed";
    public const string MapIterationStarted = "MapIterationStarted";
    public const string MapIterationSucceeded = "MapIterationSucceeded";
    public const string MapIterationFailed = "MapIterationFailed";

    public const string MapRunStarted = "MapRunStarted";
    public const string MapRunRedriven = "MapRunRedriven";
    public const string MapRunSucceeded = "MapRunSucceeded";
    public const string MapRunFailed = "MapRunFailed";

    internal static string Entered(StateType type) => type switch
    {
        StateType.Pass => PassStateEntered,
        StateType.Task => TaskStateEntered,
        StateType.Choice => ChoiceStateEntered,
        StateType.Wait => WaitStateEntered,
        StateType.Succeed => SucceedStateEntered,
        StateType.Fail => FailStateEntered,
        StateType.Parallel => ParallelStateEntered,
        StateType.Map => MapStateEntered,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>A Fail state has no exit: it fails the execution, branch or iteration it is in.</summary>
    internal static string Exited(StateType type) => type switch
    {
        StateType.Pass => PassStateExited,
        StateType.Task => TaskStateExited,
        StateType.Choice => ChoiceStateExited,
        StateType.Wait => WaitStateExited,
        StateType.Succeed => SucceedStateExited,
        StateType.Parallel => ParallelStateExited,
        StateType.Map => MapStateExited,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "A Fail state does not exit."),
    };
}

/// <summary>The events of one task call: LambdaFunction… for a function ARN as the Resource, Task… for an integration.</summary>
internal sealed record TaskEventTypes(string Scheduled, string Started, string Succeeded, string Failed, string TimedOut)
{
    public static readonly TaskEventTypes Task = new(
        HistoryEventTypes.TaskScheduled, HistoryEventTypes.TaskStarted, HistoryEventTypes.TaskSucceeded, HistoryEventTypes.TaskFailed, HistoryEventTypes.TaskTimedOut);

    public static readonly TaskEventTypes LambdaFunction = new(
        HistoryEventTypes.LambdaFunctionScheduled, HistoryEventTypes.LambdaFunctionStarted, HistoryEventTypes.LambdaFunctionSucceeded,
        HistoryEventTypes.LambdaFunctionFailed, HistoryEventTypes.LambdaFunctionTimedOut);
}
