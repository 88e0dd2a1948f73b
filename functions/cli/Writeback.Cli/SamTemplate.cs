using YamlDotNet.RepresentationModel;

namespace Writeback.Cli;

/// <summary>
/// template.yaml as the CLI reads it (the functions to run locally, the state machine's name and substitutions): one
/// loader and the node helpers every reader of the template uses.
/// </summary>
internal static class SamTemplate
{
    /// <summary>The template's root mapping and its <c>Resources</c>; null when the file holds no resources.</summary>
    public static (YamlMappingNode Root, YamlMappingNode Resources)? Load(string path)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            yaml.Load(reader);
        }

        return yaml.Documents.Count > 0 && yaml.Documents[0].RootNode is YamlMappingNode root && Child(root, "Resources") is YamlMappingNode resources
            ? (root, resources)
            : null;
    }

    public static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    /// <summary>A plain scalar's value; tagged scalars (<c>!Sub</c>, <c>!Ref</c>) need the cloud, so they count as absent.</summary>
    public static string? Scalar(YamlMappingNode node, string key) =>
        Child(node, key) is YamlScalarNode { Tag.IsEmpty: true } s ? s.Value : null;
}
