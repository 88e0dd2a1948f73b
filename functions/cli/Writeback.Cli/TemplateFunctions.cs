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
        var yaml = new YamlStream();
        using (var reader = new StreamReader(templatePath))
        {
            yaml.Load(reader);
        }

        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root
            || SfnSubstitutions.Child(root, "Resources") is not YamlMappingNode resources)
        {
            return [];
        }

        var globals = SfnSubstitutions.Child(root, "Globals") is YamlMappingNode g && SfnSubstitutions.Child(g, "Function") is YamlMappingNode gf ? gf : null;
        var functions = new List<TemplateFunction>();
        foreach (var (key, node) in resources.Children)
        {
            if (node is not YamlMappingNode resource || SfnSubstitutions.Scalar(resource, "Type") != "AWS::Serverless::Function"
                || SfnSubstitutions.Child(resource, "Properties") is not YamlMappingNode properties
                || SfnSubstitutions.Scalar(properties, "Handler") is not { } handler)
            {
                continue;
            }

            // SAM's defaults where neither the function nor Globals says: 3 seconds, 128 MB.
            functions.Add(new TemplateFunction(
                ((YamlScalarNode)key).Value!,
                handler,
                SfnSubstitutions.Scalar(properties, "CodeUri"),
                Number(root, properties, globals, "Timeout") ?? 3,
                Number(root, properties, globals, "MemorySize") ?? 128,
                Number(root, properties, globals, "ReservedConcurrentExecutions")));
        }

        return functions;
    }

    private static int? Number(YamlMappingNode root, YamlMappingNode properties, YamlMappingNode? globals, string name)
    {
        var node = SfnSubstitutions.Child(properties, name) ?? (globals is null ? null : SfnSubstitutions.Child(globals, name));
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
            YamlScalarNode { Tag.Value: "!Ref" } r when SfnSubstitutions.Child(root, "Parameters") is YamlMappingNode parameters
                && SfnSubstitutions.Child(parameters, r.Value!) is YamlMappingNode parameter => SfnSubstitutions.Scalar(parameter, "Default"),
            _ => null,
        };

        if (Resolve(arguments.Children[0]) is not { } map || Resolve(arguments.Children[1]) is not { } top || Resolve(arguments.Children[2]) is not { } key
            || SfnSubstitutions.Child(root, "Mappings") is not YamlMappingNode mappings
            || SfnSubstitutions.Child(mappings, map) is not YamlMappingNode m
            || SfnSubstitutions.Child(m, top) is not YamlMappingNode entry)
        {
            return null;
        }

        return SfnSubstitutions.Scalar(entry, key);
    }
}
