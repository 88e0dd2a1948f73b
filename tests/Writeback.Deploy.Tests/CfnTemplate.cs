using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Writeback.Deploy.Tests;

/// <summary>
/// template.yaml as CloudFormation sees it: YAML short-form tags (<c>!Ref</c>, <c>!GetAtt A.B</c>, <c>!Sub</c>,
/// <c>!If</c>, ...) become their long forms (<c>{"Ref": ...}</c>, <c>{"Fn::GetAtt": ["A", "B"]}</c>), so the checks
/// read one shape. Scalars stay strings, as CloudFormation passes them.
/// </summary>
internal sealed class CfnTemplate
{
    private CfnTemplate(JsonObject root) => Root = root;

    public JsonObject Root { get; }

    public static CfnTemplate Load(string path)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            yaml.Load(reader);
        }

        return new CfnTemplate((JsonObject)Convert(yaml.Documents[0].RootNode)!);
    }

    public JsonObject Resources => (JsonObject)Root[nameof(Resources)]!;

    public JsonObject Parameters => (JsonObject)Root[nameof(Parameters)]!;

    public IEnumerable<(string Name, JsonObject Properties)> ResourcesOfType(string type) =>
        Resources.Where(r => (string?)r.Value!["Type"] == type)
            .Select(r => (r.Key, r.Value!["Properties"] as JsonObject ?? []));

    public JsonObject Resource(string name) =>
        Resources[name] as JsonObject ?? throw new Xunit.Sdk.XunitException($"template.yaml has no resource {name}");

    /// <summary>A function property, falling back to Globals.Function as SAM does.</summary>
    public JsonNode? FunctionProperty(JsonObject properties, string name) =>
        properties[name] ?? Root["Globals"]?["Function"]?[name];

    private static JsonNode? Convert(YamlNode node)
    {
        JsonNode? value = node switch
        {
            YamlMappingNode map => new JsonObject(map.Children.Select(kv =>
                KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Convert(kv.Value)))),
            YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(Convert)]),
            YamlScalarNode scalar => scalar.Value is null ? null : JsonValue.Create(scalar.Value),
            _ => throw new NotSupportedException(node.GetType().Name),
        };
        var tag = node.Tag.IsEmpty ? null : node.Tag.Value;
        if (tag is null || !tag.StartsWith('!'))
        {
            return value;
        }

        var function = tag[1..];
        return function switch
        {
            "Ref" => new JsonObject { ["Ref"] = value },
            "Condition" => new JsonObject { ["Condition"] = value },
            "GetAtt" when value is JsonValue dotted => new JsonObject
            {
                ["Fn::GetAtt"] = new JsonArray([.. ((string)dotted!).Split('.', 2).Select(p => (JsonNode)JsonValue.Create(p))]),
            },
            _ => new JsonObject { [$"Fn::{function}"] = value },
        };
    }

    /// <summary>The resource a <c>!GetAtt X.Arn</c> or <c>!Ref X</c> names, or null for anything else.</summary>
    public static string? ReferencedResource(JsonNode? node) => node switch
    {
        JsonObject o when o["Fn::GetAtt"] is JsonArray a => (string?)a[0],
        JsonObject o when o["Ref"] is JsonValue r => (string?)r,
        _ => null,
    };

    /// <summary>Every IAM statement in the template (role policies, trust policies), with both branches of an Fn::If.</summary>
    public IEnumerable<(string Resource, JsonObject Statement)> IamStatements()
    {
        foreach (var (name, resource) in Resources)
        {
            foreach (var statements in FindAll(resource!, "Statement"))
            {
                foreach (var statement in Expand(statements))
                {
                    yield return (name, statement);
                }
            }
        }
    }

    private static IEnumerable<JsonNode> FindAll(JsonNode node, string key)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o)
                {
                    if (k == key && v is not null)
                    {
                        yield return v;
                    }
                    else if (v is not null)
                    {
                        foreach (var found in FindAll(v, key))
                        {
                            yield return found;
                        }
                    }
                }

                break;
            case JsonArray a:
                foreach (var item in a.OfType<JsonNode>())
                {
                    foreach (var found in FindAll(item, key))
                    {
                        yield return found;
                    }
                }

                break;
        }
    }

    private static IEnumerable<JsonObject> Expand(JsonNode node)
    {
        switch (node)
        {
            case JsonArray a:
                foreach (var item in a.OfType<JsonNode>().SelectMany(Expand))
                {
                    yield return item;
                }

                break;
            case JsonObject o when o["Fn::If"] is JsonArray branches:
                foreach (var branch in branches.Skip(1).OfType<JsonNode>().SelectMany(Expand))
                {
                    yield return branch;
                }

                break;
            case JsonObject o when o.ContainsKey("Effect"):
                yield return o;
                break;
        }
    }

    /// <summary>A string or a list of strings (IAM's Action and Resource), as nodes.</summary>
    public static IEnumerable<JsonNode?> Many(JsonNode? node) => node switch
    {
        null => [],
        JsonArray a => a,
        _ => new[] { node },
    };
}
