using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Writeback.Observability.History;
using Writeback.Observability.Recording;
using Writeback.StepFunctions;
using Writeback.Trigger;
using Writeback.Trigger.Auth;
using Writeback.Trigger.Events;

namespace Writeback.Cli.Local;

/// <summary>
/// The AWS side on loopback: the trigger's Function URL, the local Step Functions engine running
/// statemachines/writeback.asl.json, and the real step handlers writing to PostgreSQL.
/// </summary>
internal sealed class LocalAwsSide : IAsyncDisposable
{
    /// <summary>The identity the local "Pub/Sub" pushes as; the trigger accepts tokens for this email only.</summary>
    public const string PushServiceAccount = "writeback-push@writeback-local.iam.gserviceaccount.com";

    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private LocalAwsSide(WebApplication app, HttpClient http, Uri triggerUrl, StepFunctionsEngine engine, StateMachine stateMachine, LocalOidcIssuer issuer, LocalExecutionStarter starter)
    {
        _app = app;
        _http = http;
        TriggerUrl = triggerUrl;
        Engine = engine;
        StateMachine = stateMachine;
        Issuer = issuer;
        Starter = starter;
    }

    public Uri TriggerUrl { get; }

    public StepFunctionsEngine Engine { get; }

    public StateMachine StateMachine { get; }

    public LocalOidcIssuer Issuer { get; }

    public LocalExecutionStarter Starter { get; }

    public static async Task<LocalAwsSide> StartAsync(LocalAwsSideOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var definitionPath = ProjectPaths.WorkflowDefinition;
        var (substitutions, _) = SfnSubstitutions.Resolve(ProjectPaths.Root, definitionPath);
        var definition = DefinitionSubstitutions.Apply(await File.ReadAllTextAsync(definitionPath, cancellationToken), substitutions);

        var engine = new StepFunctionsEngine(new StepFunctionsEngineOptions
        {
            LambdaInvoker = new SfnLocalInvoker(LocalFunctions.Create(options.ConnectionString), TimeSpan.FromMinutes(15)),
        });
        var stateMachine = engine.CreateStateMachine("writeback", definition);
        var starter = new LocalExecutionStarter(engine, stateMachine);
        if (options.HistoryFolder is { } historyFolder)
        {
            starter.Started += execution => _ = KeepHistoryAsync(execution, historyFolder);
        }

        var issuer = LocalOidcIssuer.LoadOrCreate(options.IssuerKeyPath);
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.Port}");
        var app = builder.Build();
        TriggerHandler? trigger = null;

        app.MapPost("/", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var response = await trigger!.Trigger.HandleAsync(new TriggerRequest(context.Request.Method, headers, body), context.RequestAborted);
            context.Response.StatusCode = response.StatusCode;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(response.BodyJson, context.RequestAborted);
        });
        app.MapGet("/executions/{name}", (string name) => engine.FindExecution(stateMachine.ExecutionArn(name)) is { } execution
            ? Results.Text(ExecutionReport.Describe(execution).ToJsonString(), "application/json")
            : Results.Text("""{"error":"ExecutionDoesNotExist"}""", "application/json", statusCode: 404));

        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var triggerUrl = new Uri(address.EndsWith('/') ? address : address + "/");

        trigger = new TriggerHandler(
            new TriggerOptions
            {
                Audience = triggerUrl.ToString(),
                PushServiceAccountEmail = PushServiceAccount,
                Datasets = KnownDatasets.FromTargetsDirectory(ProjectPaths.Targets),
                AllowLoopbackHttpManifests = true,
            },
            issuer.CreateValidator(),
            new RecordingExecutionStarter(starter, new TriggerRecorder(new RunHistory(options.ConnectionString))),
            http);

        return new LocalAwsSide(app, http, triggerUrl, engine, stateMachine, issuer, starter);
    }

    public Execution? FindExecution(string name) => Engine.FindExecution(StateMachine.ExecutionArn(name));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
        Issuer.Dispose();
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

    /// <summary>The local OIDC issuer's private key, shared by the publisher and the trigger (created on first use).</summary>
    public required string IssuerKeyPath { get; init; }

    /// <summary>Where each finished execution's description and history is written; null keeps none.</summary>
    public string? HistoryFolder { get; init; }
}
