namespace Writeback.StepFunctions;

/// <summary>The predefined error names of the Amazon States Language.</summary>
public static class StatesErrors
{
    public const string All = "States.ALL";
    public const string DataLimitExceeded = "States.DataLimitExceeded";
    public const string Runtime = "States.Runtime";
    public const string Timeout = "States.Timeout";
    public const string HeartbeatTimeout = "States.HeartbeatTimeout";
    public const string TaskFailed = "States.TaskFailed";
    public const string Permissions = "States.Permissions";
    public const string ResultPathMatchFailure = "States.ResultPathMatchFailure";
    public const string ParameterPathFailure = "States.ParameterPathFailure";
    public const string QueryEvaluationError = "States.QueryEvaluationError";
    public const string BranchFailed = "States.BranchFailed";
    public const string NoChoiceMatched = "States.NoChoiceMatched";
    public const string IntrinsicFailure = "States.IntrinsicFailure";
    public const string ExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold";
    public const string ItemReaderFailed = "States.ItemReaderFailed";
    public const string ResultWriterFailed = "States.ResultWriterFailed";
    public const string LambdaUnknown = "Lambda.Unknown";

    /// <summary>
    /// Whether a Retrier's or Catcher's ErrorEquals entry matches an error. States.ALL never matches States.Runtime
    /// or States.DataLimitExceeded, and States.TaskFailed never matches States.Timeout; States.Runtime is terminal
    /// and matches nothing, not even its own name, because the service never lets a runtime error be recovered.
    /// </summary>
    public static bool Matches(string pattern, string error)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(error);
        if (error == Runtime)
        {
            return false;
        }

        return pattern switch
        {
            All => error != DataLimitExceeded,
            TaskFailed => error is not (Timeout or DataLimitExceeded),
            _ => string.Equals(pattern, error, StringComparison.Ordinal),
        };
    }
}

/// <summary>An ASL error raised while a state runs: it is what Retry and Catch match on and what fails an execution.</summary>
public sealed class StatesException : Exception
{
    public StatesException(string error, string? cause)
        : base(cause is null ? error : $"{error}: {cause}")
    {
        Error = error;
        Cause = cause;
    }

    public StatesException() : this(StatesErrors.Runtime, (string?)null) { }

    public StatesException(string message) : this(StatesErrors.Runtime, message) { }

    public StatesException(string message, Exception innerException) : base(message, innerException)
    {
        Error = StatesErrors.Runtime;
        Cause = message;
    }

    public string Error { get; }

    public string? Cause { get; }

    internal static StatesException Runtime(string cause) => new(StatesErrors.Runtime, cause);
}

/// <summary>A definition that cannot run; each error names the state (and the feature) it is about.</summary>
public sealed class InvalidDefinitionException : Exception
{
    public InvalidDefinitionException(IReadOnlyList<string> errors)
        : base("Invalid state machine definition:" + Environment.NewLine + string.Join(Environment.NewLine, errors)) =>
        Errors = errors;

    public InvalidDefinitionException() : this(["The definition is invalid."]) { }

    public InvalidDefinitionException(string message) : this([message]) { }

    public InvalidDefinitionException(string message, Exception innerException) : base(message, innerException) =>
        Errors = [message];

    public IReadOnlyList<string> Errors { get; }
}

/// <summary>An API-level refusal such as ExecutionAlreadyExists or InvalidName, as the Step Functions API answers it.</summary>
public sealed class StepFunctionsApiException : Exception
{
    public StepFunctionsApiException(string errorCode, string message) : base(message) => ErrorCode = errorCode;

    public StepFunctionsApiException() : this("ValidationException", "The request is invalid.") { }

    public StepFunctionsApiException(string message) : this("ValidationException", message) { }

    public StepFunctionsApiException(string message, Exception innerException) : base(message, innerException) =>
        ErrorCode = "ValidationException";

    public string ErrorCode { get; }
}
