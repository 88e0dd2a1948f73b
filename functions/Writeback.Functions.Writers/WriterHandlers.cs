using Writeback.Core.Storage;
using Writeback.Lambda;
using Writeback.Observability;
using Writeback.Observability.History;
using Writeback.Observability.Recording;
using Writeback.Observability.Telemetry;
using Writeback.Steps;

namespace Writeback.Functions.Writers;

/// <summary>The handlers this bootstrap hosts: the five step handlers, the scheduled SLO check and a database-free ping.</summary>
public static class WriterHandlers
{
    /// <summary>
    /// The names of the handlers <see cref="Create"/> builds, read off real instances (over a data source that is
    /// never opened), so this list cannot drift from what the binary actually hosts.
    /// </summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            var empty = Directory.CreateTempSubdirectory("writeback-targets-");
            try
            {
                var steps = StepHandlers.Create(new StepOptions("Host=unused.invalid", empty.FullName, SourcePolicy.Gcs("unused", null)));
                return [.. steps.Select(h => h.Name), SloCheckFunction.FunctionName, PingHandler.HandlerName];
            }
            finally
            {
                empty.Delete(recursive: true);
            }
        }
    }

    /// <summary>
    /// Creates the handlers for a Lambda function. Only the step handlers need the database, so the ping handler
    /// starts without configuration or a Secrets Manager round trip.
    /// </summary>
    public static IEnumerable<IFunctionHandler> Create(string? selected)
    {
        if (selected == PingHandler.HandlerName)
        {
            return [new PingHandler()];
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var region = Environment.GetEnvironmentVariable("AWS_REGION")
            ?? throw new InvalidOperationException("AWS_REGION is not set; Lambda sets it in every function.");
        // Blocking once at init is fine: there is no synchronization context, nothing else runs yet, and the
        // runtime's handler factory is synchronous so that its failures become Lambda init errors.
        // The SDKs' standard endpoint override (a VPC endpoint's private DNS name, or a local stand-in for tests).
        var endpoint = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_SECRETS_MANAGER") is { Length: > 0 } url ? new Uri(url) : null;
        DatabaseConnection.EnsureAsync(Environment.GetEnvironmentVariable, new SecretsManagerClient(http, region, endpoint: endpoint), CancellationToken.None)
            .GetAwaiter().GetResult();
        // The artifact carries targets/ next to bootstrap.
        var steps = StepOptions.FromEnvironment(
            Environment.GetEnvironmentVariable,
            Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT") is { Length: > 0 } taskRoot ? Path.Combine(taskRoot, "targets") : null);
        var history = new RunHistory(steps.ConnectionString);
        // Every step records itself in run history (the handlers know nothing of it), as the local engine's do.
        return [
            .. RecordingFunctionHandler.WrapAll(StepHandlers.Create(steps), history, StructuredLog.Stdout),
            SloCheckFunction.FromEnvironment(new HttpClient { Timeout = TimeSpan.FromSeconds(15) }, steps.ConnectionString),
            new PingHandler(),
        ];
    }
}
