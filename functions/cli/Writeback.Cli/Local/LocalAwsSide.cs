using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Writeback.Cli.Local.WebConsole;
using Writeback.Core;
using Writeback.Core.Contracts;
using Writeback.Core.Storage;
using Writeback.History;
using Writeback.History.Recording;
using Writeback.Slo;
using Writeback.StepFunctions;
using Writeback.StepFunctions.Local;
using Writeback.StepFunctions.Local.Journal;
using Writeback.Trigger.Local;
using Writeback.Trigger;
using Writeback.Trigger.Auth;
using Writeback.Trigger.Events;
using Writeback.Trigger.Executions;

namespace Writeback.Cli.Local;

/// <summary>
/// The AWS side on loopback: the trigger's Function URL; a Step Functions endpoint whose engine runs
/// statemachines/writeback.asl.json under the name and ARN SAM gives it; and the real step handlers writing to
/// PostgreSQL. The trigger starts executions over HTTP with the client it uses in the cloud.
/// </summary>
internal sealed class LocalAwsSide : IAsyncDisposable
{
    /// <summary>The identity the local "Pub/Sub" pushes as; the trigger accepts tokens for this email only.</summary>
    public const string PushServiceAccount = "writeback-push@writeback-local.iam.gserviceaccount.com";

    /// <summary>The stage the local stack stands in for: template.yaml's names are resolved with it.</summary>
    public const string LocalStage = "dev";

    /// <summary>Any key signs for the local endpoint; these are what the trigger signs with, whatever the user's shell holds.</summary>
    public const string LocalAccessKey = "local";

    private readonly WebApplication _app;
    private readonly HttpClient _http;
    private readonly PostgresJournal? _journal;
    private readonly RunHistory _history;

    private LocalAwsSide(WebApplication app, HttpClient http, PostgresJournal? journal, RunHistory history, Uri triggerUrl, StepFunctionsEndpoint stepFunctions, StateMachine stateMachine, LocalOidcIssuer issuer)
    {
        _app = app;
        _http = http;
        _journal = journal;
        _history = history;
        TriggerUrl = triggerUrl;
        StepFunctions = stepFunctions;
        StateMachine = stateMachine;
        Issuer = issuer;
    }

    public Uri TriggerUrl { get; }

    /// <summary>The local console's pages, on the trigger's host.</summary>
    public Uri ConsoleUrl => new(TriggerUrl, ConsoleEndpoints.Path);

    /// <summary>The Step Functions endpoint (for the AWS CLI's --endpoint-url, or AWS_ENDPOINT_URL_SFN).</summary>
    public StepFunctionsEndpoint StepFunctions { get; }

    public StepFunctionsEngine Engine => StepFunctions.Service.Engine;

    /// <summary>Where the engine's Lambda calls go: the local Invoke API and its processes, or this process.</summary>
    public required LocalLambda Lambda { get; init; }

    public StateMachine StateMachine { get; }

    public LocalOidcIssuer Issuer { get; }

    /// <summary>The executions that were RUNNING when the last process on this database stopped, carried on by this one.</summary>
    public IReadOnlyList<Execution> Resumed { get; private init; } = [];

    public static async Task<LocalAwsSide> StartAsync(LocalAwsSideOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var definitionPath = ProjectPaths.WorkflowDefinition;
        var (substitutions, _) = SfnSubstitutions.Resolve(ProjectPaths.Root, definitionPath);
        var definition = DefinitionSubstitutions.Apply(await File.ReadAllTextAsync(definitionPath, cancellationToken), substitutions);

        // The journal first: a host that may not own it must fail before it has started any function process.
        PostgresJournal? journal = null;
        if (options.DurableExecutions)
        {
            try
            {
                journal = await PostgresJournal.OpenAsync(options.ConnectionString, $"{options.Host}, pid {Environment.ProcessId}", options.Log, cancellationToken);
            }
            catch (JournalInUseException e) when (options.InMemoryWhenJournalTaken)
            {
                options.Log?.Invoke($"{e.Message}; this run keeps its executions in memory");
            }
        }

        var lambda = await LocalLambda.StartAsync(options.Lambda, options.ConnectionString, options.ExportsFolder, options.Artifacts, options.FunctionLog);
        var engine = new StepFunctionsEngine(new StepFunctionsEngineOptions { LambdaInvoker = lambda.Invoker, Journal = journal, LocalS3Root = options.S3Folder });
        if (options.HistoryFolder is { } historyFolder)
        {
            engine.ExecutionStarted += execution => _ = KeepHistoryAsync(execution, historyFolder);
        }

        var service = new LocalStepFunctionsService(engine, journal);
        // Before the workflow is registered: a resumed execution keeps the definition it started with.
        var resumed = await service.RestoreAsync(cancellationToken);
        if (options.HistoryFolder is { } folder)
        {
            foreach (var execution in resumed)
            {
                _ = KeepHistoryAsync(execution, folder);
            }
        }

        var stateMachine = service.CreateOrUpdateStateMachine(
            SfnSubstitutions.StateMachineName(ProjectPaths.Root, Path.GetFileName(definitionPath), "writeback-" + LocalStage),
            definition,
            $"arn:aws:iam::{engine.Options.AccountId}:role/writeback-{LocalStage}-state-machine");
        var stepFunctions = await StepFunctionsEndpoint.StartAsync(service, options.StepFunctionsPort, cancellationToken);

        var issuer = LocalOidcIssuer.LoadOrCreate(options.IssuerKeyPath);
        var http = options.AwsHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(30) }
            : new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var history = new RunHistory(options.ConnectionString);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.Port}");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Kestrel answers what exceeds its own limits with an empty body, before any of our code runs. Its limits are
            // set well above ours, so that the host's own checks (JSON answers) are what a sender meets.
            kestrel.Limits.MaxRequestHeadersTotalSize = TriggerLimits.MaxHeaderBytes * 8;
            kestrel.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        TriggerHandler? trigger = null;

        app.Use(async (context, next) =>
        {
            var headerBytes = context.Request.Headers.Sum(h => h.Key.Length + h.Value.Sum(v => v?.Length ?? 0) + 4);
            if (headerBytes > TriggerLimits.MaxHeaderBytes)
            {
                await AnswerAsync(context, TriggerResponse.Rejected(431, "headers_too_large",
                    $"The request's headers are {headerBytes} bytes; at most {TriggerLimits.MaxHeaderBytes} are read."));
                return;
            }

            await next(context);
        });
        // Routing's own answers (404 for another path, 405 for another method) get a JSON body like every other.
        app.UseStatusCodePages(context => AnswerAsync(context.HttpContext, TriggerResponse.Rejected(
            context.HttpContext.Response.StatusCode,
            context.HttpContext.Response.StatusCode switch { 404 => "not_found", 405 => "method_not_allowed", _ => "rejected" },
            context.HttpContext.Response.StatusCode switch
            {
                404 => $"There is nothing at '{Echo.Location(context.HttpContext.Request.Path.Value, 40)}'; Pub/Sub pushes to '/'.",
                405 => $"'{Echo.Brief(context.HttpContext.Request.Method, 16)}' is not accepted here; Pub/Sub pushes with POST.",
                _ => "The request was not accepted.",
            })));

        app.MapPost("/", async (HttpContext context) =>
        {
            var body = await ReadBodyAsync(context.Request, context.RequestAborted);
            if (body is null)
            {
                await AnswerAsync(context, TriggerResponse.Rejected(413, "body_too_large",
                    $"The body is larger than a push envelope of a batch-ready event can be (at most {TriggerLimits.MaxBodyLength} characters)."));
                return;
            }

            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            await AnswerAsync(context, await trigger!.Trigger.HandleAsync(new TriggerRequest(context.Request.Method, headers, body), context.RequestAborted));
        });
        app.MapGet("/executions/{name}", (string name) => engine.FindExecution(stateMachine.ExecutionArn(name)) is { } execution
            ? Results.Text(ExecutionReport.Describe(execution).ToJsonString(), "application/json")
            : Results.Text(TriggerResponse.Rejected(404, "ExecutionDoesNotExist", $"There is no execution named '{Echo.Brief(name, 80)}'.").BodyJson, "application/json", statusCode: 404));
        ConsoleEndpoints.Map(app, stepFunctions, new BatchViews(history, SloTarget.From(TargetCatalog.FromDirectory(ProjectPaths.Targets)), SloOptions.FromEnvironment(Environment.GetEnvironmentVariable)));

        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var triggerUrl = new Uri(address.EndsWith('/') ? address : address + "/");

        trigger = new TriggerHandler(
            new TriggerOptions
            {
                Audience = triggerUrl.ToString(),
                PushServiceAccountEmail = PushServiceAccount,
                Datasets = KnownDatasets.FromTargetsDirectory(ProjectPaths.Targets),
                // Locally the steps and the trigger read the export folder only: no URLs, and nothing outside it.
                Sources = SourcePolicy.LocalFolder(options.ExportsFolder),
            },
            issuer.CreateValidator(),
            // The cloud's client, configured the way the cloud's is (StepFunctionsOptions.FromEnvironment), from values
            // of this machine rather than the process environment: serve always talks to its own endpoint.
            new RecordingExecutionStarter(
                new StepFunctionsExecutionStarter(http, StepFunctionsOptions.FromEnvironment(
                    LocalEnvironment(stepFunctions.Url), stateMachine.Arn, engine.Options.Region)),
                new TriggerRecorder(history)),
            http);

        return new LocalAwsSide(app, http, journal, history, triggerUrl, stepFunctions, stateMachine, issuer) { Lambda = lambda, Resumed = resumed };
    }

    private static Func<string, string?> LocalEnvironment(Uri stepFunctionsUrl)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [StepFunctionsOptions.ServiceEndpointVariable] = stepFunctionsUrl.ToString(),
            ["AWS_ACCESS_KEY_ID"] = LocalAccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = LocalAccessKey,
        };
        return name => values.GetValueOrDefault(name);
    }

    private static async Task AnswerAsync(HttpContext context, TriggerResponse response)
    {
        context.Response.StatusCode = response.StatusCode;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(response.BodyJson, context.RequestAborted);
    }

    /// <summary>The body as text, or null when it is longer than a push can be; never more than that is read.</summary>
    private static async Task<string?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // UTF-8 takes at most three bytes per character the trigger counts.
        const int maxBytes = TriggerLimits.MaxBodyLength * 3;
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    public Execution? FindExecution(string name) => Engine.FindExecution(StateMachine.ExecutionArn(name));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await StepFunctions.DisposeAsync();
        _http.Dispose();
        await _history.DisposeAsync();
        Issuer.Dispose();
        // Executions still running stay RUNNING in the journal, at their checkpoint: the next start carries them on.
        if (_journal is not null)
        {
            await _journal.DisposeAsync();
        }

        await Lambda.DisposeAsync();
    }

    private static async Task KeepHistoryAsync(Execution execution, string folder)
    {
        await execution.Completion;
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, $"{execution.Name}.json"), ExecutionReport.Describe(execution).ToJsonString(ExecutionReport.Indented));
    }
}

internal sealed record LocalAwsSideOptions
{
    public required string ConnectionString { get; init; }

    /// <summary>0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>The Step Functions endpoint's loopback port; 0 picks a free one.</summary>
    public int StepFunctionsPort { get; init; }

    /// <summary>The local OIDC issuer's private key, shared by the publisher and the trigger (created on first use).</summary>
    public required string IssuerKeyPath { get; init; }

    /// <summary>The export folder: the only place manifests and shards are read from.</summary>
    public required string ExportsFolder { get; init; }

    /// <summary>How the functions run; processes behind the Invoke API unless a test asks for the handlers in this process.</summary>
    public LambdaMode Lambda { get; init; } = LambdaMode.JitProcesses;

    /// <summary>For <see cref="LambdaMode.ArtifactProcesses"/>: the folder `./writeback build-artifacts` wrote.</summary>
    public string? Artifacts { get; init; }

    /// <summary>Receives what the functions' processes print (their structured logs); null drops it.</summary>
    public Action<string>? FunctionLog { get; init; }

    /// <summary>The folder standing in for S3 in a Distributed Map's ItemReader and ResultWriter; null: such a Map fails, saying so.</summary>
    public string? S3Folder { get; init; }

    /// <summary>Where each finished execution's description and history is written; null keeps none.</summary>
    public string? HistoryFolder { get; init; }

    /// <summary>
    /// Keep state machines and executions in the database (schema writeback_sfn) and carry on the RUNNING ones at start,
    /// as serve and the demo do; tests that share a database between hosts leave it off.
    /// </summary>
    public bool DurableExecutions { get; init; }

    /// <summary>Who hosts the endpoint, as another host finding the journal taken is told: "writeback serve", "writeback demo".</summary>
    public string Host { get; init; } = "writeback";

    /// <summary>The demo may run beside a `serve` on the same database: it then keeps its executions in memory instead of failing.</summary>
    public bool InMemoryWhenJournalTaken { get; init; }

    /// <summary>Receives the host's own notices (the execution journal losing and regaining PostgreSQL); null drops them.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Under the trigger's client for StartExecution; tests put a network that fails once there. Null: the network as it is.</summary>
    public HttpMessageHandler? AwsHandler { get; init; }
}
