using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

namespace Writeback.Lambda.Local;

/// <summary>
/// One execution environment: a process running the function's runtime against a Runtime API of its own, one
/// invocation at a time. It stays warm between invocations, and is lost (killed, never reused) when its process exits,
/// when an invocation outlives the function's timeout, or when its init fails.
/// </summary>
internal sealed class Sandbox : IAsyncDisposable
{
    /// <summary>Variables a process needs to start at all (the dotnet host, a home for its caches); nothing else is inherited.</summary>
    private static readonly string[] Inherited = ["PATH", "HOME", "TMPDIR", "DOTNET_ROOT", "DOTNET_CLI_TELEMETRY_OPTOUT", "DOTNET_NOLOGO"];

    private readonly LocalFunction _function;
    private readonly string _region;
    private readonly Action<string>? _log;
    private readonly Channel<Invocation> _events = Channel.CreateBounded<Invocation>(1);
    private readonly Lock _gate = new();
    private RuntimeApiServer? _runtimeApi;
    private Process? _process;
    private Task? _exited;
    private Invocation? _current;
    private string? _initError;
    private bool _lost;

    private Sandbox(LocalFunction function, string region, Action<string>? log)
    {
        _function = function;
        _region = region;
        _log = log;
    }

    public int ProcessId { get; private set; }

    /// <summary>False once the process is gone or condemned: the pool then starts a new one.</summary>
    public bool IsReusable
    {
        get
        {
            lock (_gate)
            {
                return !_lost && _process is { HasExited: false };
            }
        }
    }

    /// <summary>The invocation in progress, for a test that must find the process holding a given shard.</summary>
    public (string RequestId, string Payload)? Current
    {
        get
        {
            lock (_gate)
            {
                return _current is { } c ? (c.RequestId, c.Payload) : null;
            }
        }
    }

    public static async Task<Sandbox> StartAsync(LocalFunction function, string region, Action<string>? log)
    {
        var sandbox = new Sandbox(function, region, log);
        try
        {
            await sandbox.StartProcessAsync();
        }
        catch
        {
            await sandbox.DisposeAsync();
            throw;
        }

        return sandbox;
    }

    private async Task StartProcessAsync()
    {
        _runtimeApi = await RuntimeApiServer.StartAsync(this);
        var start = new ProcessStartInfo(_function.Code.FileName)
        {
            WorkingDirectory = _function.Code.TaskRoot,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in _function.Code.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // A clean environment, as in a Lambda sandbox: the function sees what its template gives it and what Lambda sets.
        start.Environment.Clear();
        foreach (var name in Inherited)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                start.Environment[name] = value;
            }
        }

        foreach (var (name, value) in _function.Environment)
        {
            start.Environment[name] = value;
        }

        start.Environment["AWS_LAMBDA_RUNTIME_API"] = _runtimeApi.Endpoint;
        start.Environment["_HANDLER"] = _function.Handler;
        start.Environment["AWS_LAMBDA_FUNCTION_NAME"] = _function.Name;
        start.Environment["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST";
        start.Environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = _function.MemorySizeMb.ToString(CultureInfo.InvariantCulture);
        start.Environment["AWS_LAMBDA_FUNCTION_TIMEOUT"] = ((int)_function.Timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        start.Environment["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand";
        start.Environment["AWS_LAMBDA_LOG_GROUP_NAME"] = $"/aws/lambda/{_function.Name}";
        start.Environment["AWS_REGION"] = _region;
        start.Environment["AWS_DEFAULT_REGION"] = _region;
        start.Environment["LAMBDA_TASK_ROOT"] = _function.Code.TaskRoot;
        start.Environment["TZ"] = ":UTC";

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Log(e.Data);
        process.ErrorDataReceived += (_, e) => Log(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        ProcessId = process.Id;
        _exited = WatchExitAsync(process);
    }

    private void Log(string? line)
    {
        if (line is not null)
        {
            _log?.Invoke($"[{_function.Name} {ProcessId}] {line}");
        }
    }

    /// <summary>Runs one invocation to its end: the runtime's response or error, the process's exit, or the timeout.</summary>
    public async Task<InvokeOutcome> InvokeAsync(string payload, string? traceId, CancellationToken cancellationToken)
    {
        var invocation = new Invocation(Guid.NewGuid().ToString(), payload, traceId, FunctionArn(_function.Name));
        lock (_gate)
        {
            if (_initError is { } initError)
            {
                return InvokeOutcome.FunctionError(initError, sandboxLost: true);
            }

            if (_lost)
            {
                // The process exited between invocations (the exit watcher saw no invocation to fail).
                return InvokeOutcome.Lost(InvokeOutcome.ExitErrorType, $"RequestId: {invocation.RequestId} Error: Runtime exited before the invocation");
            }

            _current = invocation;
        }

        await _events.Writer.WriteAsync(invocation, cancellationToken);
        // The timeout runs from the moment the runtime takes the event; a process that never asks for one (a hung init)
        // is bounded by the same timeout from now.
        using var init = new CancellationTokenSource(_function.Timeout);
        using var _ = init.Token.Register(() => invocation.TryPickUpLate());
        var outcome = await invocation.Outcome.Task;
        lock (_gate)
        {
            _current = null;
            if (outcome.SandboxLost)
            {
                _lost = true;
            }
        }

        if (outcome.SandboxLost)
        {
            Kill();
        }

        return outcome;
    }

    /// <summary>Called by GET next: waits for the service's event and starts its deadline.</summary>
    public async Task<Invocation> NextAsync(CancellationToken cancellationToken)
    {
        var invocation = await _events.Reader.ReadAsync(cancellationToken);
        invocation.Start(DateTimeOffset.UtcNow + _function.Timeout, () => TimedOut(invocation));
        return invocation;
    }

    public bool Complete(string requestId, InvokeOutcome outcome)
    {
        Invocation? current;
        lock (_gate)
        {
            current = _current;
        }

        return current is not null && current.RequestId == requestId && current.Outcome.TrySetResult(outcome);
    }

    /// <summary>The runtime could not initialise: the invocation waiting for it fails with the runtime's error, and so would every later one.</summary>
    public void InitFailed(string errorBody)
    {
        Invocation? current;
        lock (_gate)
        {
            _initError = errorBody;
            _lost = true;
            current = _current;
        }

        current?.Outcome.TrySetResult(InvokeOutcome.FunctionError(errorBody, sandboxLost: true));
    }

    private void TimedOut(Invocation invocation)
    {
        // Lambda stops the whole environment; the process does not get to finish, let alone answer.
        Kill();
        var seconds = _function.Timeout.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
        invocation.Outcome.TrySetResult(InvokeOutcome.Lost(InvokeOutcome.TimedOutErrorType, $"RequestId: {invocation.RequestId} Error: Task timed out after {seconds} seconds"));
    }

    private async Task WatchExitAsync(Process process)
    {
        await process.WaitForExitAsync();
        Invocation? current;
        lock (_gate)
        {
            _lost = true;
            current = _current;
        }

        if (current is not null)
        {
            // 128 + n is how .NET reports a process killed by signal n; Lambda names the signal.
            var code = process.ExitCode;
            var how = code > 128 ? $"signal: {SignalName(code - 128)}" : $"exit status {code}";
            current.Outcome.TrySetResult(InvokeOutcome.Lost(InvokeOutcome.ExitErrorType, $"RequestId: {current.RequestId} Error: Runtime exited with error: {how}"));
        }
    }

    private static string SignalName(int signal) => signal switch
    {
        6 => "aborted",
        9 => "killed",
        11 => "segmentation fault",
        15 => "terminated",
        _ => $"signal {signal}",
    };

    /// <summary>SIGKILL, as Lambda stops an environment; a test that kills the process itself ends up here too.</summary>
    public void Kill()
    {
        try
        {
            if (_process is { HasExited: false } p)
            {
                p.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
    }

    public static string FunctionArn(string name) => $"arn:aws:lambda:{LocalLambdaService.Region}:{LocalLambdaService.AccountId}:function:{name}";

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _lost = true;
        }

        Kill();
        if (_exited is not null)
        {
            await _exited;
        }

        _process?.Dispose();
        if (_runtimeApi is not null)
        {
            await _runtimeApi.DisposeAsync();
        }
    }
}

/// <summary>One event: handed to the runtime by GET next, completed by its response, its error, its exit or its timeout.</summary>
internal sealed class Invocation(string requestId, string payload, string? traceId, string functionArn)
{
    public string RequestId { get; } = requestId;

    public string Payload { get; } = payload;

    public string? TraceId { get; } = traceId;

    public string FunctionArn { get; } = functionArn;

    public DateTimeOffset Deadline { get; private set; }

    public TaskCompletionSource<InvokeOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Action? _onTimeout;

    public void Start(DateTimeOffset deadline, Action onTimeout)
    {
        Deadline = deadline;
        _onTimeout = onTimeout;
        var due = deadline - DateTimeOffset.UtcNow;
        var timer = new Timer(_ => onTimeout(), null, due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        _ = Outcome.Task.ContinueWith(_ => timer.Dispose(), TaskScheduler.Default);
    }

    /// <summary>The init watchdog fired: if the runtime never took the event, the invocation times out now.</summary>
    public void TryPickUpLate()
    {
        if (_onTimeout is null && !Outcome.Task.IsCompleted)
        {
            Start(DateTimeOffset.UtcNow, () => { });
            Outcome.TrySetResult(InvokeOutcome.Lost(InvokeOutcome.TimedOutErrorType, $"RequestId: {RequestId} Error: the runtime did not ask for the event within the function's timeout (init hung)"));
        }
    }
}
