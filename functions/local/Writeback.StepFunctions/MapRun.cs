using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>The status of a Map Run as DescribeMapRun spells it.</summary>
public enum MapRunStatus { Running, Succeeded, Failed, Aborted }

/// <summary>
/// One run of a Distributed Map: its child executions, one per item or batch, each with its own ARN and history, and
/// the counts DescribeMapRun reports. The parent execution's history holds only MapRunStarted and its end.
/// </summary>
public sealed class MapRun
{
    private readonly Lock _lock = new();
    private readonly Execution?[] _children;
    private readonly int[] _itemsPerChild;

    internal MapRun(string arn, string executionArn, string stateName, StateMachine childMachine, bool express, IReadOnlyList<JsonNode?> childInputs, int[] itemsPerChild, DateTimeOffset startDate)
    {
        Arn = arn;
        ExecutionArn = executionArn;
        StateName = stateName;
        ChildMachine = childMachine;
        Express = express;
        ChildInputs = childInputs;
        _itemsPerChild = itemsPerChild;
        _children = new Execution?[childInputs.Count];
        StartDate = startDate;
    }

    public string Arn { get; }

    /// <summary>The execution whose Distributed Map state started the run.</summary>
    public string ExecutionArn { get; }

    public string StateName { get; }

    /// <summary>The state machine the child executions belong to: <c>…:stateMachine:machine/label</c>.</summary>
    public string StateMachineArn => ChildMachine.Arn;

    /// <summary>ExecutionType EXPRESS (children are re-run, not redriven, on a redrive) or STANDARD.</summary>
    public bool Express { get; }

    public MapRunStatus Status { get; private set; } = MapRunStatus.Running;

    public DateTimeOffset StartDate { get; }

    public DateTimeOffset? StopDate { get; private set; }

    public int MaxConcurrency { get; internal set; }

    public int ToleratedFailureCount { get; internal set; }

    public double ToleratedFailurePercentage { get; internal set; }

    public int RedriveCount { get; private set; }

    public DateTimeOffset? RedriveDate { get; private set; }

    /// <summary>Whether ResultWriter wrote the results to the folder standing in for S3.</summary>
    public bool ResultsWritten { get; internal set; }

    internal StateMachine ChildMachine { get; }

    internal IReadOnlyList<JsonNode?> ChildInputs { get; }

    internal int ItemCount => _itemsPerChild.Sum();

    /// <summary>The child executions started so far, in item order (ListExecutions with a mapRunArn).</summary>
    public IReadOnlyList<Execution> Children
    {
        get
        {
            lock (_lock)
            {
                return [.. _children.OfType<Execution>()];
            }
        }
    }

    /// <summary>DescribeMapRun's itemCounts: children's states counted in items (a batch counts as its items).</summary>
    public MapRunCounts ItemCounts => Count(i => _itemsPerChild[i]);

    /// <summary>DescribeMapRun's executionCounts: the same, one per child execution.</summary>
    public MapRunCounts ExecutionCounts => Count(_ => 1);

    internal Execution? Child(int index)
    {
        lock (_lock)
        {
            return _children[index];
        }
    }

    internal int ItemsOf(int index) => _itemsPerChild[index];

    internal void SetChild(int index, Execution child)
    {
        lock (_lock)
        {
            _children[index] = child;
        }
    }

    internal Execution? FindChild(string arn)
    {
        lock (_lock)
        {
            return _children.FirstOrDefault(c => c?.Arn == arn);
        }
    }

    internal void Close(MapRunStatus status, DateTimeOffset at)
    {
        lock (_lock)
        {
            Status = status;
            StopDate = at;
        }
    }

    internal void Redriven(DateTimeOffset at)
    {
        lock (_lock)
        {
            RedriveCount++;
            RedriveDate = at;
            Status = MapRunStatus.Running;
            StopDate = null;
        }
    }

    private MapRunCounts Count(Func<int, int> weight)
    {
        lock (_lock)
        {
            long pending = 0, running = 0, succeeded = 0, failed = 0, timedOut = 0, aborted = 0;
            for (var i = 0; i < _children.Length; i++)
            {
                var w = weight(i);
                switch (_children[i]?.Status)
                {
                    case null: pending += w; break;
                    case ExecutionStatus.Running: running += w; break;
                    case ExecutionStatus.Succeeded: succeeded += w; break;
                    case ExecutionStatus.Failed: failed += w; break;
                    case ExecutionStatus.TimedOut: timedOut += w; break;
                    default: aborted += w; break;
                }
            }

            var total = pending + running + succeeded + failed + timedOut + aborted;
            return new MapRunCounts(pending, running, succeeded, failed, timedOut, aborted, total, ResultsWritten ? total - pending - running : 0);
        }
    }
}

/// <summary>DescribeMapRun's itemCounts / executionCounts.</summary>
public sealed record MapRunCounts(long Pending, long Running, long Succeeded, long Failed, long TimedOut, long Aborted, long Total, long ResultsWritten);

/// <summary>Map Run statuses as the API spells them.</summary>
public static class MapRunStatusNames
{
    public static string Of(MapRunStatus status) => status switch
    {
        MapRunStatus.Running => "RUNNING",
        MapRunStatus.Succeeded => "SUCCEEDED",
        MapRunStatus.Failed => "FAILED",
        _ => "ABORTED",
    };
}
