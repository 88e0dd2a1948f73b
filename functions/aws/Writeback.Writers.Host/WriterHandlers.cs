using Npgsql;
using Writeback.Aws.Sns;
using Writeback.Core.Loading;
using Writeback.Core.Storage;
using Writeback.Functions;
using Writeback.History.Recording;
using Writeback.History;
using Writeback.Slo;
using Writeback.Steps.Contract;
using Writeback.Steps;
using Writeback.Telemetry;

namespace Writeback.Writers.Host;

/// <summary>The handlers this bootstrap hosts: the five step handlers, the scheduled SLO check and a database-free ping.</summary>
public static class WriterHandlers
{
    /// <summary>The names of the handlers <see cref="Create(string?)"/> builds: the contract's steps (each step handler is named by it), the SLO check and the ping.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. StepNames.All, SloCheckFunction.FunctionName, PingHandler.HandlerName];

    /// <summary>
    /// Creates the handlers for a Lambda function from its environment (<paramref name="get"/>, read here and nowhere
    /// else in the host). Only the step handlers need the database, so the ping handler starts without configuration or
    /// a Secrets Manager round trip.
    /// </summary>
    public static IEnumerable<IFunctionHandler> Create(string? selected, Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        if (selected == PingHandler.HandlerName)
        {
            return [new PingHandler()];
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var region = get("AWS_REGION")
            ?? throw new InvalidOperationException("AWS_REGION is not set; Lambda sets it in every function.");
        // Blocking once at init is fine: there is no synchronization context, nothing else runs yet, and the
        // runtime's handler factory is synchronous so that its failures become Lambda init errors.
        // The SDKs' standard endpoint override (a VPC endpoint's private DNS name, or a local stand-in for tests).
        var endpoint = get("AWS_ENDPOINT_URL_SECRETS_MANAGER") is { Length: > 0 } url ? new Uri(url) : null;
        var connectionString = DatabaseConnection.ResolveAsync(get, new SecretsManagerClient(http, region, endpoint: endpoint), CancellationToken.None)
            .GetAwaiter().GetResult();
        // The composed connection string reaches the handlers through their options, not through the process environment.
        string? WithConnection(string name) => name == StepOptions.ConnectionVariable ? connectionString : get(name);
        // The artifact carries targets/ next to bootstrap.
        var steps = StepOptions.FromEnvironment(
            WithConnection,
            get("LAMBDA_TASK_ROOT") is { Length: > 0 } taskRoot ? Path.Combine(taskRoot, "targets") : null);
        return Create(steps, new HttpClient { Timeout = TimeSpan.FromSeconds(15) }, get);
    }

    /// <summary>
    /// The database handlers over one data source of one connection: the step, its run-history records and the SLO
    /// check take turns on it (the recorder writes before and after the step, never during). A Lambda instance runs one
    /// invocation at a time, so one connection is all it can use, and reserved concurrency is then exactly the
    /// connections the stack holds (template.yaml's DbConnectionBudget). Two pools would double that.
    /// </summary>
    public static IReadOnlyList<IFunctionHandler> Create(StepOptions steps, HttpClient alertHttp, Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var dataSource = LoaderDataSource.Create(steps.ConnectionString, OneConnection);
        var history = new RunHistory(dataSource);
        // Every step records itself in run history (the handlers know nothing of it), as the local engine's do.
        return [
            .. RecordingFunctionHandler.WrapAll(StepHandlers.Create(StepHandlers.CreateEngine(steps, dataSource)), history, StructuredLog.Stdout),
            SloCheckFunction.FromEnvironment(alertHttp, history, steps.TargetsDirectory, get, SnsAlertSink.FromEnvironment(alertHttp, get)),
            new PingHandler(),
        ];
    }

    /// <summary>At most one connection, whatever the connection string says (a local WRITEBACK_PG has no limit).</summary>
    public static void OneConnection(NpgsqlConnectionStringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.MaxPoolSize = 1;
        builder.MinPoolSize = Math.Min(builder.MinPoolSize, 1);
    }
}
