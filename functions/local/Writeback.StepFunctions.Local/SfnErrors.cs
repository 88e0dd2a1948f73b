namespace Writeback.StepFunctions.Local;

/// <summary>The service's error names (the <c>__type</c> of its error bodies) and the HTTP status each comes with.</summary>
public static class SfnErrors
{
    public const string ExecutionAlreadyExists = "ExecutionAlreadyExists";
    public const string ExecutionDoesNotExist = "ExecutionDoesNotExist";
    public const string ExecutionNotRedrivable = "ExecutionNotRedrivable";
    public const string StateMachineDoesNotExist = "StateMachineDoesNotExist";
    public const string StateMachineAlreadyExists = "StateMachineAlreadyExists";
    public const string StateMachineTypeNotSupported = "StateMachineTypeNotSupported";
    public const string InvalidDefinition = "InvalidDefinition";
    public const string InvalidArn = "InvalidArn";
    public const string InvalidName = "InvalidName";
    public const string InvalidToken = "InvalidToken";
    public const string Validation = "ValidationException";
    public const string Serialization = "SerializationException";
    public const string UnknownOperation = "UnknownOperationException";
    public const string MissingAuthenticationToken = "MissingAuthenticationTokenException";
    public const string IncompleteSignature = "IncompleteSignatureException";
    public const string InternalFailure = "InternalFailure";

    /// <summary>Step Functions answers every client error with 400, its own faults with 500.</summary>
    public static int StatusCode(string error) => error == InternalFailure ? 500 : 400;
}
