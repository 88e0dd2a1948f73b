using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Writeback.Lambda.Tests.Runtime;

/// <summary>What the function sent back for one invocation: its response, or its error with the error-type header.</summary>
public sealed record InvocationOutcome(bool IsError, string Body, string? ErrorTypeHeader);

/// <summary>
/// The Lambda Runtime API (2018-06-01) as a real HTTP server on loopback: events queued here are handed out by
/// <c>GET /invocation/next</c> (a long poll) with the documented headers, and whatever the runtime posts back is recorded.
/// </summary>
public sealed class RuntimeApiEmulator : IAsyncDisposable
{
    private const string Prefix = "/2018-06-01/runtime";
    private readonly WebApplication _app;
    private readonly Channel<QueuedEvent> _queue = Channel.CreateUnbounded<QueuedEvent>();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<InvocationOutcome>> _pending = new();
    private readonly TaskCompletionSource<InvocationOutcome> _initError = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RuntimeApiEmulator(WebApplication app) => _app = app;

    /// <summary><c>host:port</c>, the form AWS_LAMBDA_RUNTIME_API takes.</summary>
    public string RuntimeApi { get; private set; } = "";

    public Task<InvocationOutcome> InitError => _initError.Task;

    public static async Task<RuntimeApiEmulator> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var emulator = new RuntimeApiEmulator(app);
        emulator.Map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        emulator.RuntimeApi = new Uri(address).Authority;
        return emulator;
    }

    public Task<InvocationOutcome> Enqueue(string payload, DateTimeOffset? deadline = null, string? traceId = null, string? requestId = null)
    {
        var id = requestId ?? Guid.NewGuid().ToString();
        var outcome = new TaskCompletionSource<InvocationOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = outcome;
        _queue.Writer.TryWrite(new QueuedEvent(id, payload, deadline ?? DateTimeOffset.UtcNow.AddMinutes(5), traceId));
        return outcome.Task;
    }

    private void Map(WebApplication app)
    {
        app.MapGet($"{Prefix}/invocation/next", async (HttpContext http) =>
        {
            var next = await _queue.Reader.ReadAsync(http.RequestAborted);
            http.Response.Headers["Lambda-Runtime-Aws-Request-Id"] = next.RequestId;
            http.Response.Headers["Lambda-Runtime-Deadline-Ms"] = next.Deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            http.Response.Headers["Lambda-Runtime-Invoked-Function-Arn"] = "arn:aws:lambda:us-east-1:123456789012:function:test";
            if (next.TraceId is not null)
            {
                http.Response.Headers["Lambda-Runtime-Trace-Id"] = next.TraceId;
            }

            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(next.Payload, http.RequestAborted);
        });
        app.MapPost($"{Prefix}/invocation/{{id}}/response", (string id, HttpContext http) => CompleteAsync(id, http, isError: false));
        app.MapPost($"{Prefix}/invocation/{{id}}/error", (string id, HttpContext http) => CompleteAsync(id, http, isError: true));
        app.MapPost($"{Prefix}/init/error", async (HttpContext http) =>
        {
            _initError.TrySetResult(new InvocationOutcome(true, await ReadBodyAsync(http), http.Request.Headers["Lambda-Runtime-Function-Error-Type"]));
            return Results.Accepted();
        });
    }

    private async Task<IResult> CompleteAsync(string id, HttpContext http, bool isError)
    {
        if (!_pending.TryRemove(id, out var outcome))
        {
            return Results.BadRequest(new { errorMessage = $"unknown or already answered request id {id}", errorType = "InvalidRequestID" });
        }

        var header = isError ? (string?)http.Request.Headers["Lambda-Runtime-Function-Error-Type"] : null;
        outcome.TrySetResult(new InvocationOutcome(isError, await ReadBodyAsync(http), header));
        return Results.Accepted();
    }

    private static async Task<string> ReadBodyAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        return await reader.ReadToEndAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed record QueuedEvent(string RequestId, string Payload, DateTimeOffset Deadline, string? TraceId);
}
