using System.Text.Json;

namespace Writeback.Trigger.Events;

/// <summary>The datasets this deployment has a target contract for; an event for any other is rejected.</summary>
public sealed class KnownDatasets
{
    private readonly HashSet<string> _names;

    private KnownDatasets(IEnumerable<string> names) => _names = new HashSet<string>(names, StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _names;

    public bool Contains(string dataset) => _names.Contains(dataset);

    public static KnownDatasets Of(params IEnumerable<string> names) => new(names);

    /// <summary>The <c>dataset</c> of every <c>*.json</c> target contract in <paramref name="targetsDirectory"/>.</summary>
    public static KnownDatasets FromTargetsDirectory(string targetsDirectory)
    {
        if (!Directory.Exists(targetsDirectory))
        {
            throw new DirectoryNotFoundException($"The targets folder '{targetsDirectory}' does not exist.");
        }

        var names = new List<string>();
        foreach (var file in Directory.EnumerateFiles(targetsDirectory, "*.json").Order(StringComparer.Ordinal))
        {
            // Only the name is needed here; the writers check the whole contract.
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            names.Add(document.RootElement.TryGetProperty("dataset", out var dataset) && dataset.ValueKind == JsonValueKind.String
                ? dataset.GetString()!
                : throw new InvalidDataException($"The target contract '{file}' has no \"dataset\"."));
        }

        return new KnownDatasets(names);
    }
}
