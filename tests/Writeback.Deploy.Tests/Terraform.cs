using System.Text.Json.Nodes;

namespace Writeback.Deploy.Tests;

/// <summary>infra/*.tf as JSON (HashiCorp's HCL parser through @cdktf/hcl2json), parsed once per test run.</summary>
internal static class Terraform
{
    public static Lazy<Dictionary<string, JsonObject>> Parsed { get; } = new(ParseAll);

    public static List<string> TfFiles()
    {
        var files = Directory.GetFiles(Repo.PathOf("infra"), "*.tf", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}.terraform{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        return files;
    }

    private static Dictionary<string, JsonObject> ParseAll()
    {
        var script = Repo.PathOf("tests", "Writeback.Deploy.Tests", "Tools", "hcl2json.cjs");
        Repo.NodeModule(Path.Combine("@cdktf", "hcl2json", "package.json"));
        var result = Repo.Run("node", [script, Repo.NodeTools, .. TfFiles()],
            "Install Node.js 20+ (apt-get install nodejs npm), then run scripts/test-prerequisites.sh.");
        Assert.True(result.ExitCode == 0, result.Output);
        var all = (JsonObject)JsonNode.Parse(result.Stdout)!;
        return all.ToDictionary(kv => Path.GetRelativePath(Repo.Root, kv.Key), kv => (JsonObject)kv.Value!);
    }

    /// <summary>Every block of one kind (variable, output, resource type) across all files, by name.</summary>
    public static IEnumerable<(string Name, JsonObject Body)> Blocks(params string[] path)
    {
        foreach (var file in Parsed.Value.Values)
        {
            JsonNode? node = file;
            foreach (var key in path)
            {
                node = node?[key];
            }

            foreach (var (name, bodies) in node as JsonObject ?? [])
            {
                foreach (var body in (bodies as JsonArray ?? []).OfType<JsonObject>())
                {
                    yield return (name, body);
                }
            }
        }
    }

    /// <summary>The one resource of a type and name.</summary>
    public static JsonObject Resource(string type, string name) =>
        Assert.Single(Blocks("resource", type), b => b.Name == name).Body;

    /// <summary>A variable's default value, as hcl2json gives it (strings stay strings).</summary>
    public static JsonNode? Default(string variable) =>
        Assert.Single(Blocks("variable"), b => b.Name == variable).Body["default"];
}
