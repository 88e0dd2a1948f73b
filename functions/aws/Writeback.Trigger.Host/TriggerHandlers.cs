using Writeback.Core.Storage;
using Writeback.Functions;
using Writeback.Telemetry;
using Writeback.Trigger;

namespace Writeback.Trigger.Host;

/// <summary>The handler this bootstrap hosts; template.yaml's Handler value must be among <see cref="Names"/>.</summary>
public static class TriggerHandlers
{
    public static IReadOnlyList<string> Names { get; } = [TriggerHandler.FunctionName];

    /// <summary>
    /// The trigger, configured from the function's environment (template.yaml sets the state machine ARN, the expected
    /// audience and push service account; the datasets come from the targets/ folder bundled next to bootstrap).
    /// </summary>
    public static IEnumerable<IFunctionHandler> Create()
    {
        // One client for the sandbox's lifetime: it keeps connections to Step Functions and Google's key endpoint warm.
        // It follows no redirects: the manifest probe must not be led from a checked URL to an unchecked one.
        var http = BatchFiles.CreateHttpClient(TimeSpan.FromSeconds(10));
        // CloudWatch Logs receives stdout: one JSON line per decision, next to the Url4xxCount/Url5xxCount alarms.
        return [new DecisionLoggingHandler(TriggerHandler.FromEnvironment(http, Environment.GetEnvironmentVariable), StructuredLog.Stdout)];
    }
}
