using Writeback.Core.Storage;

namespace Writeback.Core.Engine;

/// <summary>
/// Load shard's plan, kept per manifest for the life of the writer. Every shard of a batch reads the same manifest; read
/// and fingerprinted per shard, a batch of n shards costs n reads of an n-entry manifest — quadratic, which a
/// 20,000-shard batch turned into hours of parsing (and, on AWS, a manifest download per invocation). A warm writer
/// reads each manifest once; Prepare, Verify and Publish still read it fresh.
/// </summary>
public sealed partial class LoadEngine
{
    /// <summary>Manifests kept; a writer loads shards of one or two batches at a time.</summary>
    private const int PlansKept = 4;

    private readonly Lock _plansLock = new();
    private readonly LinkedList<(string Key, BatchPlan Plan)> _plans = new();

    private async Task<BatchPlan> ShardPlanAsync(string manifestUri, CancellationToken cancellationToken)
    {
        var key = PlanKey(manifestUri);
        if (key is not null)
        {
            lock (_plansLock)
            {
                for (var node = _plans.First; node is not null; node = node.Next)
                {
                    if (node.Value.Key == key)
                    {
                        _plans.Remove(node);
                        _plans.AddFirst(node);
                        return node.Value.Plan;
                    }
                }
            }
        }

        var plan = await PlanAsync(manifestUri, cancellationToken);
        if (key is not null)
        {
            lock (_plansLock)
            {
                _plans.AddFirst((key, plan));
                while (_plans.Count > PlansKept)
                {
                    _plans.RemoveLast();
                }
            }
        }

        return plan;
    }

    /// <summary>
    /// What identifies a manifest's content: an object URL as given (exports never rewrite a manifest; a re-signed one is
    /// a new object beside it), a local file by its path, size and last write, so that a file written again is read
    /// again. Null (no caching) for a location the policy refuses: PlanAsync then says why.
    /// </summary>
    private string? PlanKey(string manifestUri)
    {
        SourceLocation location;
        try
        {
            location = files.Sources.Manifest(manifestUri);
        }
        catch (InvalidBatchException)
        {
            return null;
        }

        if (!location.IsFile)
        {
            return manifestUri;
        }

        var file = new FileInfo(location.LocalPath);
        return file.Exists ? $"{file.FullName}\n{file.Length}\n{file.LastWriteTimeUtc.Ticks}" : null;
    }
}
