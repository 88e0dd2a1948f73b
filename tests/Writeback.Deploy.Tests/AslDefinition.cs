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

    /// <summary>
    /// How many invocations of each substituted function one execution can have in flight at once: 1 for a Task at
    /// the top level, the Map's MaxConcurrency for a Task inside a Map (0, "unbounded", is returned as int.MaxValue).
    /// </summary>
    public static IReadOnlyDictionary<string, int> ConcurrentInvocationsPerExecution(JsonObject machine)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        Walk(machine, 1);
        return result;

        void Walk(JsonObject container, int fanOut)
        {
            foreach (var (_, node) in container["States"] as JsonObject ?? [])
            {
                var state = (JsonObject)node!;
                if (InvokedSubstitution(state) is { } substitution)
                {
                    result[substitution] = Math.Max(result.GetValueOrDefault(substitution), fanOut);
                }

                if (new[] { state["ItemProcessor"], state["Iterator"] }.OfType<JsonObject>().FirstOrDefault() is { } processor)
                {
                    var max = state["MaxConcurrency"] is JsonValue v ? (int)v : 0;
                    Walk(processor, max == 0 ? int.MaxValue : checked(fanOut * max));
                }

                // Branches run side by side, so each may have the function in flight at once: an upper bound.
                var branches = (state["Branches"] as JsonArray ?? []).OfType<JsonObject>().ToList();
                foreach (var branch in branches)
                {
                    Walk(branch, checked(fanOut * branches.Count));
                }
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
