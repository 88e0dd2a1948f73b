using Writeback.Core.Contracts;

namespace Writeback.Aggregate.Export;

/// <summary>Runs a dataset's model for a business date and leaves its shards and manifest in storage.</summary>
public interface IBatchExporter
{
    Task<ExportedBatch> ExportAsync(DatasetDefinition dataset, DateOnly businessDate, string traceparent, CancellationToken cancellationToken);
}

/// <summary>
/// One exported batch. <paramref name="Reused"/> is true when this very export (same content, same sequence, so the
/// same batch id) had already been written: the stored manifest is returned unchanged, so publishing it again is an
/// exact duplicate. A later run of the same data is a new export and a new batch.
/// </summary>
public sealed record ExportedBatch(
    Manifest Manifest,
    string ManifestUri,
    bool Reused,
    TimeSpan QueryDuration,
    TimeSpan WriteDuration)
{
    public long Rows => Manifest.Shards.Sum(s => s.Rows);

    public long Bytes => Manifest.Shards.Sum(s => s.Bytes);
}

/// <summary>The caller asked for something that cannot exist (unknown dataset, a date the warehouse does not hold): a 400, not a retry.</summary>
public sealed class AggregateInputException : Exception
{
    public AggregateInputException()
    {
    }

    public AggregateInputException(string message) : base(message)
    {
    }

    public AggregateInputException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
