using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Writeback.StepFunctions.Local;

namespace Writeback.Cli.Local.WebConsole;

/// <summary>
/// A small stand-in for the Step Functions console at <c>/console/</c> on serve's address: static pages embedded in
/// this assembly that call the Step Functions API (the actions the AWS CLI uses) and one read-only route of run history.
/// </summary>
internal static class ConsoleEndpoints
{
    public const string Path = "/console/";

    private const string ResourcePrefix = "console/";

    /// <summary>
    /// Everything the pages load comes from here; nothing inline may run, so a value that slipped into markup would
    /// still not execute.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
    };

    public static void Map(IEndpointRouteBuilder app, StepFunctionsEndpoint stepFunctions, BatchViews batches)
    {
        var console = app.MapGroup("/console").AddEndpointFilter(async (context, next) =>
            LoopbackHost(context.HttpContext.Request) ? await next(context) : Results.StatusCode(StatusCodes.Status403Forbidden));
        // Routing treats /console and /console/ as one; the page's relative URLs need the slash.
        console.MapGet("/", (HttpContext context) => context.Request.Path.Value!.EndsWith('/') ? Asset("index.html") : Results.Redirect(Path));
        console.MapGet("/{file}", (string file) => Asset(file));
        console.MapPost("/sfn", async (HttpContext context) =>
        {
            await stepFunctions.AnswerUnsignedAsync(context);
            return Results.Empty;
        });
        console.MapGet("/batches/{batchId}", async (string batchId, CancellationToken cancellationToken) =>
            await batches.FindAsync(batchId, cancellationToken) is { } view
                ? Results.Text(JsonSerializer.Serialize(view, ConsoleJson.Default.BatchView), "application/json")
                : Results.Text(JsonSerializer.Serialize(new ConsoleError("BatchNotFound", "Run history has no batch by this id (yet)."), ConsoleJson.Default.ConsoleError), "application/json", statusCode: 404));
    }

    /// <summary>
    /// A page on another site can resolve its own name to 127.0.0.1 (DNS rebinding) and so become same-origin; its
    /// requests still name that site in Host, and are refused.
    /// </summary>
    private static bool LoopbackHost(HttpRequest request) => request.Host.Host is "127.0.0.1" or "localhost" or "[::1]";

    private static IResult Asset(string file)
    {
        var extension = System.IO.Path.GetExtension(file);
        var stream = typeof(ConsoleEndpoints).Assembly.GetManifestResourceStream(ResourcePrefix + file);
        if (stream is null || !ContentTypes.TryGetValue(extension, out var contentType))
        {
            stream?.Dispose();
            return Results.NotFound();
        }

        return new AssetResult(stream, contentType);
    }

    private sealed class AssetResult(Stream content, string contentType) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            await using var stream = content;
            httpContext.Response.ContentType = contentType;
            httpContext.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            httpContext.Response.Headers.XContentTypeOptions = "nosniff";
            // The pages change with the build; a browser must not keep an old one beside a new endpoint.
            httpContext.Response.Headers.CacheControl = "no-store";
            await stream.CopyToAsync(httpContext.Response.Body, httpContext.RequestAborted);
        }
    }
}
