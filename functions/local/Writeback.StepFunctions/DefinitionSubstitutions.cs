using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// SAM's DefinitionSubstitutions: <c>${Name}</c> placeholders in the definition's strings, replaced before loading,
/// so the file SAM deploys is the file that runs locally.
/// </summary>
public static class DefinitionSubstitutions
{
    /// <summary>Replaces every <c>${Name}</c> that <paramref name="values"/> knows; unknown ones stay for validation to report.</summary>
    public static string Apply(string definitionJson, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(definitionJson);
        ArgumentNullException.ThrowIfNull(values);
        var sb = new StringBuilder(definitionJson.Length);
        var i = 0;
        while (i < definitionJson.Length)
        {
            var start = definitionJson.IndexOf("${", i, StringComparison.Ordinal);
            if (start < 0)
            {
                sb.Append(definitionJson, i, definitionJson.Length - i);
                break;
            }

            var end = definitionJson.IndexOf('}', start + 2);
            if (end < 0)
            {
                sb.Append(definitionJson, i, definitionJson.Length - i);
                break;
            }

            sb.Append(definitionJson, i, start - i);
            var name = definitionJson[(start + 2)..end];
            if (values.TryGetValue(name, out var value))
            {
                // The value lands inside a JSON string, so it is escaped as one.
                var encoded = JsonSerializer.Serialize(value, JsonContext.Default.String);
                sb.Append(encoded, 1, encoded.Length - 2);
            }
            else
            {
                sb.Append(definitionJson, start, end - start + 1);
            }

            i = end + 1;
        }

        return sb.ToString();
    }

    /// <summary>The placeholders a definition uses, in order of first use.</summary>
    public static IReadOnlyList<string> Placeholders(string definitionJson)
    {
        ArgumentNullException.ThrowIfNull(definitionJson);
        var names = new List<string>();
        var i = 0;
        while ((i = definitionJson.IndexOf("${", i, StringComparison.Ordinal)) >= 0)
        {
            var end = definitionJson.IndexOf('}', i + 2);
            if (end < 0)
            {
                break;
            }

            var name = definitionJson[(i + 2)..end];
            if (!names.Contains(name))
            {
                names.Add(name);
            }

            i = end + 1;
        }

        return names;
    }

    /// <summary>Reads a flat JSON object of names to values, such as statemachines/local-substitutions.json.</summary>
    public static IReadOnlyDictionary<string, string> ParseJson(string json)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Json.Parse(json) is not JsonObject obj)
        {
            throw new FormatException("A substitutions file must be a JSON object of names to strings.");
        }

        foreach (var (key, value) in obj)
        {
            if (key.StartsWith('$') || key == "Comment")
            {
                continue;
            }

            values[key] = Json.TryGetString(value, out var s) ? s : throw new FormatException($"Substitution '{key}' must be a string.");
        }

        return values;
    }
}
