namespace Writeback.Core.Contracts;

/// <summary>
/// The target contracts shipped with the writers (<c>targets/*.json</c>), keyed by dataset. A manifest's dataset is
/// only ever looked up here, never used to build a path.
/// </summary>
public sealed class TargetCatalog
{
    private readonly Dictionary<string, ResolvedTarget> _byDataset;

    public TargetCatalog(IEnumerable<Target> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        _byDataset = new(StringComparer.Ordinal);
        foreach (var target in targets)
        {
            var resolved = new ResolvedTarget(target);
            if (!_byDataset.TryAdd(resolved.Dataset, resolved))
            {
                throw new ContractException($"two target contracts declare dataset '{resolved.Dataset}'.");
            }
        }
    }

    public IReadOnlyCollection<ResolvedTarget> Targets => _byDataset.Values;

    public static TargetCatalog FromDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new ContractException($"the targets folder '{directory}' does not exist.");
        }

        var targets = Directory.EnumerateFiles(directory, "*.json", SearchOption.TopDirectoryOnly)
            .Order(StringComparer.Ordinal)
            .Select(path => ContractReader.ReadTarget(File.ReadAllBytes(path), path));
        return new TargetCatalog(targets);
    }

    public ResolvedTarget Get(string dataset, string batchId) =>
        _byDataset.TryGetValue(dataset, out var target)
            ? target
            : throw new InvalidBatchException($"batch '{batchId}': field 'dataset': no target contract declares dataset '{dataset}'.");
}
