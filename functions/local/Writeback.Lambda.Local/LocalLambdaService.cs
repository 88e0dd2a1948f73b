using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Writeback.Lambda.Local;

/// <summary>
/// The Lambda Invoke API (<c>POST /2015-03-31/functions/{name}/invocations</c>) on loopback. Each function runs as real
/// processes speaking the Runtime API, so what answers is the deployed host's own code, with Lambda's failure modes:
/// a function error is 200 with <c>X-Amz-Function-Error: Unhandled</c>, a process that dies is <c>Runtime.ExitError</c>,
/// a timeout kills the process and is <c>Sandbox.Timedout</c>, too many at once is 429.
/// </summary>
public sealed class LocalLambdaService : IAsyncDisposable
{
    public const string Region = "us-east-1";
    public const string AccountId = "000000000000";

    /// <summary>The Invoke API's limit on a synchronous request payload.</summary>
    public const int MaxRequestBytes = 6 * 1024 * 1024;

    private readonly WebApplication _app;
    private readonly Dictionary<string, FunctionPool> _pools;

    private LocalLambdaService(WebApplication app, Dictionary<string, FunctionPool> pools, Uri endpoint)
    {
        _app = app;
        _pools = pools;
        Endpoint = endpoint;
    }

    /// <summary>The service's base address (what <c>aws --endpoint-url</c> takes).</summary>
    public Uri Endpoint { get; }

    public IReadOnlyCollection<string> FunctionNames => _pools.Keys;

    /// <summary>Every invocation in progress, with the process running it.</summary>
    public IReadOnlyList<RunningInvocation> Running => [.. _pools.Values.SelectMany(p => p.Running)];

    /// <summary>How many processes a function has started (cold starts).</summary>
    public int ColdStarts(string functionName) => _pools[functionName].ColdStarts;

    /// <param name="log">Receives every line the functions' processes write; null drops them.</param>
    public static async Task<LocalLambdaService> StartAsync(IEnumerable<LocalFunction> functions, int port = 0, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(functions);
        var pools = functions.ToDictionary(f => f.Name, f => new FunctionPool(f, Region, log), StringComparer.Ordinal);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = MaxRequestBytes + 1);
        var app = builder.Build();
        app.MapPost("/2015-03-31/functions/{function}/invocations", (HttpContext context, string function) => InvokeAsync(context, function, pools));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LocalLambdaService(app, pools, new Uri(address.EndsWith('/') ? address : address + "/"));
    }

    private static async Task InvokeAsync(HttpContext context, string function, Dictionary<string, FunctionPool> pools)
    {
        var name = FunctionName(Uri.UnescapeDataString(function));
        var response = context.Response;
        response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        if (!pools.TryGetValue(name, out var pool))
        {
            await ServiceErrorAsync(response, 404, "ResourceNotFoundException",
                new JsonObject { ["Type"] = "User", ["Message"] = $"Function not found: {Sandbox.FunctionArn(name)}" });
            return;
        }

        var invocationType = context.Request.Headers["X-Amz-Invocation-Type"].ToString();
        if (invocationType is not ("" or "RequestResponse" or "Event" or "DryRun"))
        {
            await ServiceErrorAsync(response, 400, "InvalidParameterValueException",
                new JsonObject { ["Type"] = "User", ["message"] = $"Unsupported invocation type '{invocationType}'." });
            return;
        }

        var payload = await BoundedBody.ReadAsync(context.Request, MaxRequestBytes);
        if (payload is null)
        {
            await ServiceErrorAsync(response, 413, "RequestTooLargeException",
                new JsonObject { ["Type"] = "User", ["message"] = $"Request must be smaller than {MaxRequestBytes} bytes for the InvokeFunction operation" });
            return;
        }

        if (invocationType == "DryRun")
        {
            response.StatusCode = 204;
            return;
        }

        var traceId = context.Request.Headers["X-Amzn-Trace-Id"].ToString();
        if (invocationType == "Event")
        {
            // Asynchronous: accepted now, run in the background; its outcome goes nowhere, as without a destination.
            _ = Task.Run(() => pool.InvokeAsync(payload, traceId, CancellationToken.None));
            response.StatusCode = 202;
            return;
        }

        // Not the request's abort token: a caller that gives up (a state's TimeoutSeconds) does not stop the function.
        var outcome = await pool.InvokeAsync(payload.Length == 0 ? "{}" : payload, traceId.Length == 0 ? null : traceId, CancellationToken.None);
        if (outcome is null)
        {
            await ServiceErrorAsync(response, 429, "TooManyRequestsException",
                new JsonObject { ["Reason"] = "ReservedFunctionConcurrentInvocationLimitExceeded", ["Type"] = "User", ["message"] = "Rate Exceeded." });
            return;
        }

        response.StatusCode = 200;
        response.Headers["X-Amz-Executed-Version"] = "$LATEST";
        if (outcome.IsFunctionError)
        {
            response.Headers["X-Amz-Function-Error"] = "Unhandled";
        }

        response.ContentType = "application/json";
        await response.WriteAsync(outcome.Body);
    }

    /// <summary>The function's name from a name, a partial ARN (<c>000000000000:function:name</c>) or a full ARN, qualifier dropped.</summary>
    internal static string FunctionName(string reference)
    {
        var marker = reference.IndexOf("function:", StringComparison.Ordinal);
        var name = marker >= 0 ? reference[(marker + "function:".Length)..] : reference;
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        return colon >= 0 ? name[..colon] : name;
    }

    private static async Task ServiceErrorAsync(HttpResponse response, int status, string type, JsonObject body)
    {
        response.StatusCode = status;
        response.Headers["x-amzn-ErrorType"] = type;
        response.ContentType = "application/json";
        await response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        foreach (var pool in _pools.Values)
        {
            await pool.DisposeAsync();
        }

        await _app.DisposeAsync();
    }
}
