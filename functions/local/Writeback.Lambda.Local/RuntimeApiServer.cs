using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Writeback.Lambda.Local;

/// <summary>
/// The Lambda Runtime API (2018-06-01) of one sandbox, on a loopback port of its own: a process finds it through
/// AWS_LAMBDA_RUNTIME_API (host:port, no path), so a port is the only way to tell two sandboxes apart.
/// </summary>
internal sealed class RuntimeApiServer : IAsyncDisposable
{
    /// <summary>The Runtime API's limit on a synchronous response.</summary>
    public const int MaxResponseBytes = 6 * 1024 * 1024;

    private const string Prefix = "/2018-06-01/runtime";
    private readonly WebApplication _app;

    private RuntimeApiServer(WebApplication app, string endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    /// <summary><c>127.0.0.1:port</c>, the value of AWS_LAMBDA_RUNTIME_API.</summary>
    public string Endpoint { get; }

    public static async Task<RuntimeApiServer> StartAsync(Sandbox sandbox)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = MaxResponseBytes + 1);
        var app = builder.Build();

        // A long poll: it returns when the service hands this sandbox an event, however long that takes.
        app.MapGet(Prefix + "/invocation/next", async (HttpContext context) =>
        {
            var invocation = await sandbox.NextAsync(context.RequestAborted);
            var headers = context.Response.Headers;
            headers["Lambda-Runtime-Aws-Request-Id"] = invocation.RequestId;
            headers["Lambda-Runtime-Deadline-Ms"] = invocation.Deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            headers["Lambda-Runtime-Invoked-Function-Arn"] = invocation.FunctionArn;
            if (invocation.TraceId is { Length: > 0 } trace)
            {
                headers["Lambda-Runtime-Trace-Id"] = trace;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(invocation.Payload, context.RequestAborted);
        });

        app.MapPost(Prefix + "/invocation/{requestId}/response", async (HttpContext context, string requestId) =>
        {
            var body = await BoundedBody.ReadAsync(context.Request, MaxResponseBytes);
            if (body is null)
            {
                return Error(413, "RequestEntityTooLarge", $"The response is larger than {MaxResponseBytes} bytes.");
            }

            return sandbox.Complete(requestId, InvokeOutcome.Response(body)) ? Accepted() : UnknownRequest(requestId);
        });

        app.MapPost(Prefix + "/invocation/{requestId}/error", async (HttpContext context, string requestId) =>
        {
            var body = await BoundedBody.ReadAsync(context.Request, MaxResponseBytes) ?? "";
            return sandbox.Complete(requestId, InvokeOutcome.FunctionError(ErrorBody(body, context.Request), sandboxLost: false))
                ? Accepted()
                : UnknownRequest(requestId);
        });

        app.MapPost(Prefix + "/init/error", async (HttpContext context) =>
        {
            var body = await BoundedBody.ReadAsync(context.Request, MaxResponseBytes) ?? "";
            sandbox.InitFailed(ErrorBody(body, context.Request));
            return Accepted();
        });

        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new RuntimeApiServer(app, $"127.0.0.1:{address.Port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The posted error document; a runtime that posts none still gets its Lambda-Runtime-Function-Error-Type reported.</summary>
    private static string ErrorBody(string body, HttpRequest request)
    {
        if (body.Length > 0)
        {
            return body;
        }

        var type = request.Headers["Lambda-Runtime-Function-Error-Type"].ToString();
        return new System.Text.Json.Nodes.JsonObject
        {
            ["errorMessage"] = "The runtime reported an error without a body.",
            ["errorType"] = type.Length > 0 ? type : "Runtime.Unknown",
        }.ToJsonString();
    }

    private static IResult Accepted() => Results.Json(new Dictionary<string, string> { ["status"] = "OK" }, statusCode: 202);

    private static IResult UnknownRequest(string requestId) =>
        Error(400, "InvalidRequestID", $"Request {requestId} is not the invocation in progress.");

    private static IResult Error(int status, string type, string message) =>
        Results.Json(new Dictionary<string, string> { ["errorType"] = type, ["errorMessage"] = message }, statusCode: status);
}
