using System.Text.Json.Nodes;

namespace Writeback.Lambda.Local;

/// <summary>How one invocation ended, in the Invoke API's terms: a body, and whether it is a function error.</summary>
internal sealed record InvokeOutcome(string Body, bool IsFunctionError, bool SandboxLost)
{
    /// <summary>The errorType Lambda reports when the runtime process exits during an invocation.</summary>
    public const string ExitErrorType = "Runtime.ExitError";

    /// <summary>The errorType Lambda reports when an invocation outlives the function's timeout.</summary>
    public const string TimedOutErrorType = "Sandbox.Timedout";

    /// <summary>The errorType Lambda reports when the runtime's executable cannot be started.</summary>
    public const string InvalidEntrypointErrorType = "Runtime.InvalidEntrypoint";

    public static InvokeOutcome Response(string body) => new(body, IsFunctionError: false, SandboxLost: false);

    /// <summary>What the runtime posted to <c>/error</c> (or <c>/init/error</c>), passed on as Lambda does.</summary>
    public static InvokeOutcome FunctionError(string body, bool sandboxLost) => new(body, IsFunctionError: true, sandboxLost);

    public static InvokeOutcome Lost(string errorType, string errorMessage) =>
        new(new JsonObject { ["errorMessage"] = errorMessage, ["errorType"] = errorType }.ToJsonString(), IsFunctionError: true, SandboxLost: true);
}
