namespace Writeback.Cli.Local;

/// <summary>
/// Where a running <c>serve</c> tells publishers its emulator: <c>.writeback/serve.pubsub</c>, lines of
/// <c>export NAME='value'</c> that <c>./writeback aggregate</c> reads and a shell can <c>source</c>.
/// </summary>
internal static class ServePubSubFile
{
    public static string Path => System.IO.Path.Combine(ProjectPaths.State, "serve.pubsub");

    public static Task WriteAsync(IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken) =>
        File.WriteAllLinesAsync(Path, environment.Select(v => $"export {v.Key}='{v.Value}'"), cancellationToken);

    /// <summary>The variables, or null when no serve with an emulator is running.</summary>
    public static IReadOnlyDictionary<string, string>? Read()
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(Path))
        {
            var assignment = line.StartsWith("export ", StringComparison.Ordinal) ? line["export ".Length..] : line;
            var equals = assignment.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                values[assignment[..equals]] = assignment[(equals + 1)..].Trim('\'');
            }
        }

        return values;
    }
}
