using Writeback.StepFunctions;
using YamlDotNet.RepresentationModel;

namespace Writeback.Cli;

/// <summary>
/// Values for a definition's <c>${Name}</c> placeholders. template.yaml's DefinitionSubstitutions come first: a
/// <c>!GetAtt XFunction.Arn</c> (or <c>!Ref XFunction</c>) becomes a local function ARN named after the function's
/// Handler, which is the name the local handlers answer to. What the template cannot resolve locally comes from
/// statemachines/local-substitutions.json.
/// </summary>
internal static class SfnSubstitutions
{
    public const string LocalArnPrefix = "arn:aws:lambda:us-east-1:000000000000:function:";

    public static (Dictionary<string, string> Values, List<string> Sources) Resolve(string root, string definitionPath)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var sources = new List<string>();
        var local = Path.Combine(root, "statemachines", "local-substitutions.json");
        if (File.Exists(local))
        {
            foreach (var (k, v) in DefinitionSubstitutions.ParseJson(File.ReadAllText(local)))
            {
                values[k] = v;
            }

            sources.Add(local);
        }

        var template = Path.Combine(root, "template.yaml");
        if (File.Exists(template))
        {
            foreach (var (k, v) in FromTemplate(template, Path.GetFileName(definitionPath)))
            {
                values[k] = v;
            }

            sources.Add(template);
        }

        return (values, sources);
    }

    /// <summary>
    /// The name SAM gives the state machine that runs <paramref name="definitionFile"/>: its <c>Name</c>, with a
    /// <c>!Sub</c>'s <c>${Parameter}</c> taken from the parameter's Default or else its first AllowedValue (Stage → dev);
    /// <paramref name="fallback"/> when the template has no such state machine or name.
    /// </summary>
    public static string StateMachineName(string root, string definitionFile, string fallback)
    {
        var templatePath = Path.Combine(root, "template.yaml");
        if (!File.Exists(templatePath))
        {
            return fallback;
        }

        if (SamTemplate.Load(templatePath) is not { } template)
        {
            return fallback;
        }

        var (rootNode, resources) = template;

        var parameters = SamTemplate.Child(rootNode, "Parameters") as YamlMappingNode;
        foreach (var (_, resource) in resources.Children)
        {
            if (resource is YamlMappingNode r && SamTemplate.Scalar(r, "Type") is "AWS::Serverless::StateMachine" or "AWS::StepFunctions::StateMachine"
                && SamTemplate.Child(r, "Properties") is YamlMappingNode props
                && SamTemplate.Scalar(props, "DefinitionUri") is { } uri && Path.GetFileName(uri) == definitionFile
                && SamTemplate.Child(props, "Name") is YamlScalarNode { Value: { } name } node)
            {
                return node.Tag.IsEmpty ? name : node.Tag.Value == "!Sub" ? SubstituteParameters(name, parameters) ?? fallback : fallback;
            }
        }

        return fallback;
    }

    private static string? SubstituteParameters(string text, YamlMappingNode? parameters)
    {
        var result = new System.Text.StringBuilder();
        var at = 0;
        while (text.IndexOf("${", at, StringComparison.Ordinal) is var open and >= 0)
        {
            var close = text.IndexOf('}', open);
            if (close < 0 || parameters is null || SamTemplate.Child(parameters, text[(open + 2)..close]) is not YamlMappingNode parameter)
            {
                return null;
            }

            var value = SamTemplate.Scalar(parameter, "Default")
                ?? (SamTemplate.Child(parameter, "AllowedValues") is YamlSequenceNode { Children.Count: > 0 } allowed ? (allowed.Children[0] as YamlScalarNode)?.Value : null);
            if (value is null)
            {
                return null;
            }

            result.Append(text, at, open - at).Append(value);
            at = close + 1;
        }

        return result.Append(text, at, text.Length - at).ToString();
    }

    private static Dictionary<string, string> FromTemplate(string templatePath, string definitionFile)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (SamTemplate.Load(templatePath) is not { } template)
        {
            return result;
        }

        var (_, resources) = template;

        foreach (var (_, resource) in resources.Children)
        {
            if (resource is not YamlMappingNode r || SamTemplate.Scalar(r, "Type") is not ("AWS::Serverless::StateMachine" or "AWS::StepFunctions::StateMachine")
                || SamTemplate.Child(r, "Properties") is not YamlMappingNode props)
            {
                continue;
            }

            var uri = SamTemplate.Scalar(props, "DefinitionUri");
            if (uri is not null && !string.Equals(Path.GetFileName(uri), definitionFile, StringComparison.Ordinal))
            {
                continue;
            }

            if (SamTemplate.Child(props, "DefinitionSubstitutions") is not YamlMappingNode substitutions)
            {
                continue;
            }

            foreach (var (key, value) in substitutions.Children)
            {
                var name = ((YamlScalarNode)key).Value!;
                if (ResolveValue(value, resources) is { } resolved)
                {
                    result[name] = resolved;
                }
            }
        }

        return result;
    }

    private static string? ResolveValue(YamlNode value, YamlMappingNode resources)
    {
        string? target = null;
        switch (value)
        {
            case YamlScalarNode s when s.Tag.IsEmpty:
                return s.Value;
            case YamlScalarNode s when s.Tag.Value is "!GetAtt" or "!Ref":
                target = s.Value?.Split('.')[0];
                break;
            case YamlSequenceNode seq when seq.Tag.Value == "!GetAtt" && seq.Children.Count > 0:
                target = (seq.Children[0] as YamlScalarNode)?.Value;
                break;
            case YamlMappingNode m when SamTemplate.Child(m, "Fn::GetAtt") is YamlSequenceNode getAtt && getAtt.Children.Count > 0:
                target = (getAtt.Children[0] as YamlScalarNode)?.Value;
                break;
            case YamlMappingNode m when SamTemplate.Scalar(m, "Ref") is { } reference:
                target = reference;
                break;
            default:
                break;
        }

        if (target is null || SamTemplate.Child(resources, target) is not YamlMappingNode resource || SamTemplate.Child(resource, "Properties") is not YamlMappingNode props)
        {
            return null;
        }

        var handler = SamTemplate.Scalar(props, "Handler");
        var functionName = SamTemplate.Scalar(props, "FunctionName");
        var name = handler ?? functionName;
        return name is null ? null : LocalArnPrefix + name;
    }
}
