namespace Writeback.Lambda.Local;

/// <summary>
/// One function's execution environments: warm ones are reused, a new one starts when none is free, and no more run
/// at once than the function's reserved concurrency (beyond it Lambda throttles, and so does this).
/// </summary>
internal sealed class FunctionPool(LocalFunction function, string region, Action<string>? log) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Stack<Sandbox> _idle = new();
    private readonly HashSet<Sandbox> _busy = [];
    private int _starting;
    private bool _disposed;

    public LocalFunction Function { get; } = function;

    /// <summary>How many processes this function has started: one per cold start.</summary>
    public int ColdStarts { get; private set; }

    public IReadOnlyList<RunningInvocation> Running
    {
        get
        {
            lock (_gate)
            {
                return [.. _busy.Select(s => (s, s.Current)).Where(x => x.Current is not null)
                    .Select(x => new RunningInvocation(Function.Name, x.Current!.Value.RequestId, x.Current.Value.Payload, x.s.ProcessId))];
            }
        }
    }

    /// <returns>The outcome, or null when the invocation is throttled.</returns>
    public async Task<InvokeOutcome?> InvokeAsync(string payload, string? traceId, CancellationToken cancellationToken)
    {
        Sandbox? sandbox = null;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_busy.Count + _starting >= (Function.ReservedConcurrency ?? int.MaxValue))
            {
                return null;
            }

            while (_idle.TryPop(out var warm))
            {
                if (warm.IsReusable)
                {
                    sandbox = warm;
                    break;
                }

                _ = warm.DisposeAsync().AsTask();
            }

            if (sandbox is null)
            {
                _starting++;
                ColdStarts++;
            }
            else
            {
                _busy.Add(sandbox);
            }
        }

        if (sandbox is null)
        {
            try
            {
                sandbox = await Sandbox.StartAsync(Function, region, log);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                lock (_gate)
                {
                    _starting--;
                }

                return InvokeOutcome.Lost(InvokeOutcome.InvalidEntrypointErrorType, $"{Function.Code.FileName} could not be started: {e.Message}");
            }

            lock (_gate)
            {
                _starting--;
                _busy.Add(sandbox);
            }
        }

        try
        {
            return await sandbox.InvokeAsync(payload, traceId, cancellationToken);
        }
        finally
        {
            var reuse = sandbox.IsReusable;
            lock (_gate)
            {
                _busy.Remove(sandbox);
                if (reuse && !_disposed)
                {
                    _idle.Push(sandbox);
                }
            }

            if (!reuse)
            {
                await sandbox.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<Sandbox> all;
        lock (_gate)
        {
            _disposed = true;
            all = [.. _idle, .. _busy];
            _idle.Clear();
        }

        foreach (var sandbox in all)
        {
            await sandbox.DisposeAsync();
        }
    }
}

/// <summary>An invocation in progress and the process running it.</summary>
public sealed record RunningInvocation(string FunctionName, string RequestId, string Payload, int ProcessId);
