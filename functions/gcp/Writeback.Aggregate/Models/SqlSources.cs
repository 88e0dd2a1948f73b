using System.Reflection;

namespace Writeback.Aggregate.Models;

/// <summary>Where model and part texts come from, by name (<c>student_dashboard</c>, <c>test_scores</c>).</summary>
public interface ISqlSource
{
    string? FindModel(string name);

    string? FindPart(string name);
}

/// <summary>
/// The <c>sql/</c> folder compiled into this assembly, so the function, the CLI and the tests run the same SQL
/// wherever they are deployed, with no path to configure.
/// </summary>
public sealed class EmbeddedSqlSource : ISqlSource
{
    public static EmbeddedSqlSource Instance { get; } = new();

    private static readonly Assembly Assembly = typeof(EmbeddedSqlSource).Assembly;

    public string? FindModel(string name) => Read($"sql/models/{name}.sql");

    public string? FindPart(string name) => Read($"sql/parts/{name}.sql");

    private static string? Read(string resource)
    {
        using var stream = Assembly.GetManifestResourceStream(resource);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>A <c>sql/</c> folder on disk (<c>models/*.sql</c>, <c>parts/*.sql</c>), for editing models without a rebuild.</summary>
public sealed class DirectorySqlSource(string root) : ISqlSource
{
    public string? FindModel(string name) => Read(Path.Combine(root, "models", name + ".sql"));

    public string? FindPart(string name) => Read(Path.Combine(root, "parts", name + ".sql"));

    private static string? Read(string path) => File.Exists(path) ? File.ReadAllText(path) : null;
}
