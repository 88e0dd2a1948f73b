using System.Text.Json;
using Writeback.Functions;
using Writeback.Lambda.Runtime;

namespace Writeback.Lambda.Tests.Runtime;

/// <summary>
/// The runtime against a Runtime API emulator on loopback. One class, so its tests run one at a time:
/// _X_AMZN_TRACE_ID is process-wide, as it is in a Lambda sandbox.
/// </summary>
public sealed class LambdaRuntimeTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private RuntimeApiEmulator _emulator = null!;
    private readonly CancellationTokenSource _stop = new();

    public async Task InitializeAsync() => _emulator = await RuntimeApiEmulator.StartAsync();

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _emulator.DisposeAsync();
        _stop.Dispose();
    }

    private Task<int> Run(string? handlerName, params IFunctionHandler[] handlers) =>
        LambdaRuntime.RunAsync(() => handlers, new LambdaRuntimeOptions { RuntimeApi = _emulator.RuntimeApi, HandlerName = handlerName }, _stop.Token);

    [Fact]
    public async Task An_invocation_round_trips_the_payload_to_the_response()
    {
        var run = Run("echo", new Handler("echo", (payload, _, _) => Task.FromResult($"{{\"echo\":{payload}}}")));

        var outcome = await _emulator.Enqueue("{\"n\":1}").WaitAsync(Patience);

        Assert.False(outcome.IsError);
        Assert.Equal("{\"echo\":{\"n\":1}}", outcome.Body);
        await StopAsync(run);
    }

    [Fact]
    public async Task The_deadline_header_becomes_the_context_deadline()
    {
        InvocationContext? seen = null;
        var run = Run("h", new Handler("h", (_, context, _) => { seen = context; return Task.FromResult("{}"); }));
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddMinutes(3).ToUnixTimeMilliseconds());

        await _emulator.Enqueue("{}", deadline: deadline, requestId: "req-1").WaitAsync(Patience);

        Assert.Equal(deadline, seen!.Deadline);
        Assert.Equal("req-1", seen.RequestId);
        await StopAsync(run);
    }

    [Fact]
    public async Task The_trace_header_is_set_as_X_AMZN_TRACE_ID_for_each_invocation()
    {
        var seen = new List<string?>();
        var run = Run("h", new Handler("h", (_, context, _) =>
        {
            seen.Add(Environment.GetEnvironmentVariable("_X_AMZN_TRACE_ID"));
            Assert.Equal(seen[^1], context.TraceId);
            return Task.FromResult("{}");
        }));

        await _emulator.Enqueue("{}", traceId: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1").WaitAsync(Patience);
        await _emulator.Enqueue("{}", traceId: "Root=1-00000000-000000000000000000000002;Sampled=0").WaitAsync(Patience);

        Assert.Equal(
            ["Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", "Root=1-00000000-000000000000000000000002;Sampled=0"],
            seen);
        await StopAsync(run);
    }

    [Fact]
    public async Task A_FunctionException_reports_its_error_type()
    {
        var run = Run("h", new Handler("h", (_, _, _) => throw new FunctionException("Writeback.ContractViolation", "column x is missing")));

        var outcome = await _emulator.Enqueue("{}").WaitAsync(Patience);

        Assert.True(outcome.IsError);
        Assert.Equal("Writeback.ContractViolation", outcome.ErrorTypeHeader);
        using var body = JsonDocument.Parse(outcome.Body);
        Assert.Equal("Writeback.ContractViolation", body.RootElement.GetProperty("errorType").GetString());
        Assert.Equal("column x is missing", body.RootElement.GetProperty("errorMessage").GetString());
        await StopAsync(run);
    }

    [Fact]
    public async Task An_unexpected_exception_reports_its_type_name()
    {
        var run = Run("h", new Handler("h", (_, _, _) => throw new InvalidOperationException("boom")));

        var outcome = await _emulator.Enqueue("{}").WaitAsync(Patience);

        Assert.True(outcome.IsError);
        Assert.Equal("InvalidOperationException", outcome.ErrorTypeHeader);
        using var body = JsonDocument.Parse(outcome.Body);
        Assert.Equal("InvalidOperationException", body.RootElement.GetProperty("errorType").GetString());
        Assert.Equal("boom", body.RootElement.GetProperty("errorMessage").GetString());
        Assert.True(body.RootElement.GetProperty("stackTrace").GetArrayLength() > 0);
        await StopAsync(run);
    }

    [Fact]
    public async Task A_handler_still_running_at_its_deadline_is_cancelled_and_reported()
    {
        var run = Run("h", new Handler("h", async (_, _, ct) =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return "{}";
        }));

        // A deadline already reached: the invocation's token is cancelled at once.
        var outcome = await _emulator.Enqueue("{}", deadline: DateTimeOffset.UtcNow).WaitAsync(Patience);

        Assert.True(outcome.IsError);
        Assert.Equal("TaskCanceledException", outcome.ErrorTypeHeader);
        Assert.Contains("deadline", outcome.Body, StringComparison.Ordinal);
        await StopAsync(run);
    }

    [Fact]
    public async Task An_unknown_HANDLER_is_an_init_error()
    {
        var exitCode = await Run("writeback-nope", new Handler("writeback-a", Echo), new Handler("writeback-b", Echo)).WaitAsync(Patience);

        var error = await _emulator.InitError.WaitAsync(Patience);
        Assert.Equal(1, exitCode);
        Assert.Equal(LambdaRuntime.HandlerNotFoundErrorType, error.ErrorTypeHeader);
        using var body = JsonDocument.Parse(error.Body);
        Assert.Equal(LambdaRuntime.HandlerNotFoundErrorType, body.RootElement.GetProperty("errorType").GetString());
        Assert.Contains("writeback-nope", body.RootElement.GetProperty("errorMessage").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failure_while_creating_the_handlers_is_an_init_error()
    {
        var exitCode = await LambdaRuntime.RunAsync(
            () => throw new InvalidOperationException("WRITEBACK_TRIGGER_URL is not set"),
            new LambdaRuntimeOptions { RuntimeApi = _emulator.RuntimeApi, HandlerName = "h" },
            _stop.Token).WaitAsync(Patience);

        var error = await _emulator.InitError.WaitAsync(Patience);
        Assert.Equal(1, exitCode);
        Assert.Equal(LambdaRuntime.InitFailedErrorType, error.ErrorTypeHeader);
        Assert.Contains("WRITEBACK_TRIGGER_URL", error.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HANDLER_picks_one_of_several_handlers_in_the_binary()
    {
        var run = Run("writeback-b",
            new Handler("writeback-a", (_, _, _) => Task.FromResult("\"a\"")),
            new Handler("writeback-b", (_, _, _) => Task.FromResult("\"b\"")));

        var outcome = await _emulator.Enqueue("{}").WaitAsync(Patience);

        Assert.Equal("\"b\"", outcome.Body);
        await StopAsync(run);
    }

    [Fact]
    public async Task Several_invocations_are_answered_in_sequence()
    {
        var active = 0;
        var run = Run("h", new Handler("h", async (payload, _, _) =>
        {
            Assert.Equal(1, Interlocked.Increment(ref active));
            await Task.Yield();
            Interlocked.Decrement(ref active);
            return payload.Contains("fail", StringComparison.Ordinal) ? throw new FunctionException("Writeback.Bad", payload) : payload;
        }));

        var outcomes = new[] { "1", "2", "\"fail\"", "4", "5" }.Select(p => _emulator.Enqueue(p)).ToList();
        var results = await Task.WhenAll(outcomes).WaitAsync(Patience);

        Assert.Equal(["1", "2", "4", "5"], results.Where(r => !r.IsError).Select(r => r.Body));
        Assert.Equal("Writeback.Bad", Assert.Single(results, r => r.IsError).ErrorTypeHeader);
        await StopAsync(run);
    }

    private static Task<string> Echo(string payload, InvocationContext context, CancellationToken ct) => Task.FromResult(payload);

    private async Task StopAsync(Task<int> run)
    {
        await _stop.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(Patience));
    }

    private sealed class Handler(string name, Func<string, InvocationContext, CancellationToken, Task<string>> invoke) : IFunctionHandler
    {
        public string Name => name;

        public Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken) =>
            invoke(payloadJson, context, cancellationToken);
    }
}
