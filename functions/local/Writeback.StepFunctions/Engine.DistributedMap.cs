namespace Writeback.StepFunctions;

/// <summary>The Map Runs of Distributed Map states and the child executions they started.</summary>
public sealed partial class StepFunctionsEngine
{
    private readonly Lock _mapRunLock = new();
    private readonly List<MapRun> _mapRuns = [];
    private StepFunctionsEngine? _childEngine;

    /// <summary>
    /// Runs child executions: the same clock, Lambda binding, limits and S3 folder, but no journal — a child is not
    /// resumed after a restart; the Distributed Map that started it runs again instead, which is idempotent.
    /// </summary>
    internal StepFunctionsEngine ChildEngine
    {
        get
        {
            lock (_mapRunLock)
            {
                return _childEngine ??= new StepFunctionsEngine(new StepFunctionsEngineOptions
                {
                    TimeProvider = Options.TimeProvider,
                    LambdaInvoker = Options.LambdaInvoker,
                    RandomSeed = NextRandom(0, int.MaxValue),
                    PayloadLimitBytes = Options.PayloadLimitBytes,
                    InlineMapConcurrencyCap = Options.InlineMapConcurrencyCap,
                    MaxHistoryEvents = Options.MaxHistoryEvents,
                    IncludeExecutionData = Options.IncludeExecutionData,
                    Region = Options.Region,
                    AccountId = Options.AccountId,
                    LocalS3Root = Options.LocalS3Root,
                });
            }
        }
    }

    /// <summary>ListMapRuns: the Map Runs one execution started, oldest first.</summary>
    public IReadOnlyList<MapRun> ListMapRuns(string executionArn)
    {
        lock (_mapRunLock)
        {
            return [.. _mapRuns.Where(r => r.ExecutionArn == executionArn)];
        }
    }

    /// <summary>DescribeMapRun; ResourceNotFound for an ARN no Distributed Map started.</summary>
    public MapRun DescribeMapRun(string mapRunArn)
    {
        lock (_mapRunLock)
        {
            return _mapRuns.FirstOrDefault(r => r.Arn == mapRunArn)
                ?? throw new StepFunctionsApiException("ResourceNotFound", $"Map Run does not exist: '{mapRunArn}'");
        }
    }

    internal void AddMapRun(MapRun run)
    {
        lock (_mapRunLock)
        {
            _mapRuns.Add(run);
        }
    }

    /// <summary>The latest Map Run of this execution's state: a redrive continues it.</summary>
    internal MapRun? LatestMapRun(string executionArn, string stateName)
    {
        lock (_mapRunLock)
        {
            return _mapRuns.LastOrDefault(r => r.ExecutionArn == executionArn && r.StateName == stateName);
        }
    }

    private Execution? FindChildExecution(string arn)
    {
        lock (_mapRunLock)
        {
            return _mapRuns.Select(r => r.FindChild(arn)).FirstOrDefault(c => c is not null);
        }
    }
}
