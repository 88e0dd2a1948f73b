using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Writeback.Aggregate.Export;

namespace Writeback.Aggregate.Http;

/// <summary>
/// The aggregate function as an HTTP app, compatible with Cloud Run functions: listens on $PORT (8080 by default)
/// and runs one batch per <c>POST /</c>. 400 means the request can never succeed (do not retry); 500 means our
/// fault (retry). <c>POST /resign</c> re-signs an exported batch's manifest for a rollback (see <see cref="Cloud.ManifestResigner"/>).
/// Both are reachable only with an identity token of an account holding roles/run.invoker (infra/aggregate.tf).
/// </summary>
public static partial class AggregateFunction
{
    /// <param name="runner">Builds the runner; by default from the environment (see <see cref="AggregateEnvironment"/>).</param>
    /// <param name="configure">A last say over the host, e.g. <c>b => b.WebHost.UseTestServer()</c> in tests.</param>
    /// <param name="resigner">Builds the manifest re-signer; by default from the environment (cloud mode only).</param>
    public static WebApplication Build(
        string[] args, Func<IServiceProvider, AggregateRunner>? runner = null, Action<WebApplicationBuilder>? configure = null, Func<IServiceProvider, Cloud.ManifestResigner>? resigner = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var port = Environment.GetEnvironmentVariable("PORT") is { Length: > 0 } p ? p : "8080";
        builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
        builder.Services.AddSingleton(runner ?? (_ => AggregateEnvironment.CreateRunner(Environment.GetEnvironmentVariable)));
        builder.Services.AddSingleton(resigner ?? (_ => AggregateEnvironment.CreateResigner(Environment.GetEnvironmentVariable)));
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapGet("/healthz", () => "ok");
        app.MapPost("/", HandleAsync);
        app.MapPost("/resign", HandleResignAsync);
        return app;
    }

    private static Task HandleAsync(HttpContext context) => AnswerAsync(context, "aggregate", async logger =>
    {
        var (dataset, businessDate) = await AggregateRequestReader.ReadAsync(context.Request, context.RequestAborted);
        var runner = context.RequestServices.GetRequiredService<AggregateRunner>();
        var result = await runner.RunAsync(dataset, businessDate, context.RequestAborted);
        LogDone(logger, result.BatchId, result.Rows, result.Shards, result.Reused, result.Timings.Total.TotalMilliseconds);
        await Write(context, StatusCodes.Status200OK, new AggregateResponse(result.BatchId, result.ManifestUri, result.Shards, result.Rows), AggregateHttpJson.Default.AggregateResponse);
    });

    /// <summary>Runs one route's work and maps its failures to the status codes every route shares.</summary>
    private static async Task AnswerAsync(HttpContext context, string what, Func<ILogger, Task> work)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Writeback.Aggregate");
        try
        {
            await work(logger);
        }
        catch (AggregateInputException e)
        {
            LogRefused(logger, e.Message);
            await Write(context, StatusCodes.Status400BadRequest, new ErrorResponse(e.Message), AggregateHttpJson.Default.ErrorResponse);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; nobody is listening for an answer.
        }
#pragma warning disable CA1031 // Anything else is our fault: answer 500 so Pub/Sub, the scheduler or the operator retries.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogFailed(logger, what, e);
            await Write(context, StatusCodes.Status500InternalServerError, new ErrorResponse($"{what} failed: {e.Message}"), AggregateHttpJson.Default.ErrorResponse);
        }
    }

    private static async Task Write<T>(HttpContext context, int status, T body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, body, type, context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "batch {BatchId}: {Rows} rows in {Shards} shards (reused {Reused}) in {Milliseconds} ms")]
    private static partial void LogDone(ILogger logger, string batchId, long rows, int shards, bool reused, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{What} failed")]
    private static partial void LogFailed(ILogger logger, string what, Exception exception);
}
