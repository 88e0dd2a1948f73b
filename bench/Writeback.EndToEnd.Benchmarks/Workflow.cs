using System.Globalization;
using System.Text.Json.Nodes;
using Writeback.Core.Storage;
using Writeback.Functions;
using Writeback.History;
using Writeback.History.Recording;
using Writeback.StepFunctions;
using Writeback.Steps;
using Writeback.Steps.Contract;

namespace Writeback.EndToEnd.Benchmarks;

/// <summary>
/// One execution's wall time, the time of each top-level step (the Map counts as one: LoadShard), and the CPU from the
/// first shard load's start to the last one's end (the Map's own window, as near as the handlers see it).
/// </summary>
internal sealed record WorkflowRun(TimeSpan Elapsed, IReadOnlyDictionary<string, TimeSpan> Steps, JsonNode? Output, CpuUse? LoadCpu);

/// <summary>
/// statemachines/writeback.asl.json on the project's engine, its Lambda tasks bound to the real step handlers (with run
/// history, as the local Lambda host records it), called in this process: the `demo --in-process` wiring. What it
/// leaves out is the Invoke API hop, which on AWS is Lambda's own.
/// </summary>
internal sealed class Workflow
{
    private readonly StepFunctionsEngine _engine;
    private readonly StateMachine _machine;
    private readonly LoadWindow _loads;
    private int _runs;

    private Workflow(StepFunctionsEngine engine, StateMachine machine, LoadWindow loads)
    {
        _engine = engine;
        _machine = machine;
        _loads = loads;
    }

    public static Workflow Create(string connectionString, string root, string exportsFolder, CpuMeter cpu)
    {
        var loads = new LoadWindow(cpu);
        var handlers = RecordingFunctionHandler.WrapAll(
            StepHandlers.Create(new StepOptions(connectionString, Path.Combine(root, "targets"), SourcePolicy.LocalFolder(exportsFolder))),
            new RunHistory(connectionString));
        var invoker = new DelegateLambdaInvoker();
        foreach (var handler in handlers)
        {
            var isLoad = handler.Name == StepNames.LoadShard;
            invoker.Add(handler.Name, async (payload, ct) =>
            {
                if (isLoad)
                {
                    loads.Started();
                }

                try
                {
                    return LambdaInvocationResult.Success(await handler.InvokeAsync(payload, InvocationContext.Local(TimeSpan.FromMinutes(15)), ct));
                }
                catch (FunctionException e)
                {
                    return LambdaInvocationResult.Failure(e.ErrorType, e.Message);
                }
                finally
                {
                    if (isLoad)
                    {
                        loads.Ended();
                    }
                }
            });
        }

        var machines = Path.Combine(root, "statemachines");
        var text = DefinitionSubstitutions.Apply(
            File.ReadAllText(Path.Combine(machines, "writeback.asl.json")),
            DefinitionSubstitutions.ParseJson(File.ReadAllText(Path.Combine(machines, "local-substitutions.json"))));
        var engine = new StepFunctionsEngine(new StepFunctionsEngineOptions { LambdaInvoker = invoker });
        return new Workflow(engine, engine.CreateStateMachine("writeback", text), loads);
    }

    /// <summary>Runs one batch to the end; a failed execution stops the benchmark, since its time would mean nothing.</summary>
    public async Task<WorkflowRun> RunAsync(string manifestUri)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"bench-{Environment.ProcessId}-{++_runs}");
        var input = new JsonObject { ["manifestUri"] = manifestUri }.ToJsonString();
        _loads.Reset();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var execution = _engine.StartExecution(_machine, input, name);
        await execution.Completion;
        clock.Stop();
        if (execution.Status != ExecutionStatus.Succeeded)
        {
            throw new InvalidOperationException($"execution {name} {execution.StatusName}: {execution.Error}: {execution.Cause}");
        }

        var output = execution.OutputJson is { } json ? JsonNode.Parse(json) : null;
        if (output?["action"]?.GetValue<string>() != "load")
        {
            throw new InvalidOperationException($"execution {name} did not load the batch: {execution.OutputJson}");
        }

        return new WorkflowRun(clock.Elapsed, Steps(execution), output, _loads.Use());
    }

    /// <summary>
    /// CPU samples at the first shard load's start and the last one's end. The history's Map timestamps mark nearly the
    /// same span, but CPU counters can only be read as time passes, so the handlers read them.
    /// </summary>
    private sealed class LoadWindow(CpuMeter cpu)
    {
        private readonly Lock _lock = new();
        private CpuSample? _first;
        private CpuSample? _last;

        public void Reset()
        {
            lock (_lock)
            {
                _first = _last = null;
            }
        }

        public void Started()
        {
            lock (_lock)
            {
                _first ??= cpu.Sample();
            }
        }

        public void Ended()
        {
            lock (_lock)
            {
                _last = cpu.Sample();
            }
        }

        public CpuUse? Use()
        {
            lock (_lock)
            {
                return _first is { } first && _last is { } last ? CpuMeter.Between(first, last) : null;
            }
        }
    }

    /// <summary>Top-level Task and Map states (not the tasks inside the Map's iterations), summed by name.</summary>
    private static Dictionary<string, TimeSpan> Steps(Execution execution)
    {
        var steps = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        var open = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var depth = 0;
        foreach (var e in execution.History)
        {
            if (e.Type == "MapIterationStarted")
            {
                depth++;
            }
            else if (e.Type is "MapIterationSucceeded" or "MapIterationFailed" or "MapIterationAborted")
            {
                depth--;
            }

            if (depth > 0 || e.Details?["name"]?.GetValue<string>() is not { } name)
            {
                continue;
            }

            if (e.Type is "TaskStateEntered" or "MapStateEntered")
            {
                open[name] = e.Timestamp;
            }
            else if (e.Type is "TaskStateExited" or "MapStateExited" && open.Remove(name, out var started))
            {
                steps[name] = steps.GetValueOrDefault(name) + (e.Timestamp - started);
            }
        }

        return steps;
    }
}
