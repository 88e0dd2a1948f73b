using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Writeback.Deploy.Tests;

/// <summary>A state machine definition from statemachines/, read for what the template must agree with.</summary>
internal static partial class AslDefinition
{
    public static IReadOnlyList<string> Files()
    {
        var files = Directory.GetFiles(Repo.PathOf("statemachines"), "*.asl.json").Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count > 0, "statemachines/ holds no *.asl.json definition");
        return files;
    }

    public static JsonObject Load(string path) => (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;

    /// <summary>The <c>${Name}</c> DefinitionSubstitutions a definition uses.</summary>
    public static ISet<string> Substitutions(string path) =>
        Placeholder().Matches(File.ReadAllText(path)).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>Every state, nested ones (Map item processors, Parallel branches) included.</summary>
    public static IEnumerable<(string Name, JsonObject State)> States(JsonObject machine)
    {
        foreach (var (name, node) in machine["States"] as JsonObject ?? [])
        {
            var state = (JsonObject)node!;
            yield return (name, state);
            foreach (var inner in new[] { state["ItemProcessor"], state["Iterator"] }.OfType<JsonObject>().SelectMany(States))
            {
                yield return inner;
            }

            foreach (var branch in (state["Branches"] as JsonArray ?? []).OfType<JsonObject>().SelectMany(States))
            {
                yield return branch;
            }
        }
    }

    /// <summary>The substitution a Task state invokes (<c>Parameters.FunctionName</c> or <c>Resource</c>), if any.</summary>
    public static string? InvokedSubstitution(JsonObject state)
    {
        var target = (string?)(state["Parameters"]?["FunctionName"] ?? state["Arguments"]?["FunctionName"] ?? state["Resource"]);
        return target is null ? null : Placeholder().Match(target) is { Success: true } m ? m.Groups[1].Value : null;
    }

    [GeneratedRegex(@"\$\{([A-Za-z0-9_]+)\}")]
    private static partial Regex Placeholder();
}
