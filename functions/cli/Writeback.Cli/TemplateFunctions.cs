using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Writeback.Cli;

/// <summary>What template.yaml says about one function, as far as it can be known without a deployed stack.</summary>
internal sealed record TemplateFunction(string Resource, string Handler, string? CodeUri, int TimeoutSeconds, int MemorySizeMb, int? ReservedConcurrency);

/// <summary>
/// template.yaml's Lambda functions for the local Lambda service, read with the same YAML helpers as the definition
/// substitutions: Handler, Timeout, MemorySize and ReservedConcurrentExecutions, with <c>!FindInMap</c> over a
/// parameter resolved at the parameter's Default (what a deploy without overrides gets).
/// </summary>
internal static class TemplateFunctions
{
    public static IReadOnlyList<TemplateFunction> Read(string templatePath)
    {
        if (SamTemplate.Load(templatePath) is not { } template)
        {
            return [];
        }

        var (root, resources) = template;

        var globals = SamTemplate.Child(root, "Globals") is YamlMappingNode g && SamTemplate.Child(g, "Function") is YamlMappingNode gf ? gf : null;
        var functions = new List<TemplateFunction>();
        foreach (var (key, node) in resources.Children)
        {
            if (node is not YamlMappingNode resource || SamTemplate.Scalar(resource, "Type") != "AWS::Serverless::Function"
                || SamTemplate.Child(resource, "Properties") is not YamlMappingNode properties
                || SamTemplate.Scalar(properties, "Handler") is not { } handler)
            {
                continue;
            }

            // SAM's defaults where neither the function nor Globals says: 3 seconds, 128 MB.
            functions.Add(new TemplateFunction(
                ((YamlScalarNode)key).Value!,
                handler,
                SamTemplate.Scalar(properties, "CodeUri"),
                Number(root, properties, globals, "Timeout") ?? 3,
                Number(root, properties, globals, "MemorySize") ?? 128,
                Number(root, properties, globals, "ReservedConcurrentExecutions")));
        }

        return functions;
    }

    private static int? Number(YamlMappingNode root, YamlMappingNode properties, YamlMappingNode? globals, string name)
    {
        var node = SamTemplate.Child(properties, name) ?? (globals is null ? null : SamTemplate.Child(globals, name));
        var text = node switch
        {
            YamlScalarNode { Tag.IsEmpty: true } s => s.Value,
            YamlSequenceNode { Tag.Value: "!FindInMap" } seq when seq.Children.Count == 3 => FindInMap(root, seq),
            _ => null,
        };
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    /// <summary><c>!FindInMap [Map, TopKey, Key]</c>, where TopKey may be <c>!Ref Parameter</c> (taken at its Default).</summary>
    private static string? FindInMap(YamlMappingNode root, YamlSequenceNode arguments)
    {
        string? Resolve(YamlNode node) => node switch
        {
            YamlScalarNode { Tag.IsEmpty: true } s => s.Value,
            YamlScalarNode { Tag.Value: "!Ref" } r when SamTemplate.Child(root, "Parameters") is YamlMappingNode parameters
                && SamTemplate.Child(parameters, r.Value!) is YamlMappingNode parameter => SamTemplate.Scalar(parameter, "Default"),
            _ => null,
        };

        if (Resolve(arguments.Children[0]) is not { } map || Resolve(arguments.Children[1]) is not { } top || Resolve(arguments.Children[2]) is not { } key
            || SamTemplate.Child(root, "Mappings") is not YamlMappingNode mappings
            || SamTemplate.Child(mappings, map) is not YamlMappingNode m
            || SamTemplate.Child(m, top) is not YamlMappingNode entry)
        {
            return null;
        }

        return SamTemplate.Scalar(entry, key);
    }
}
