using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Reading one field of a state: its type checked, and an error naming the state and field when it is wrong.</summary>
public sealed partial class StateMachineDefinition
{
    private PayloadTemplate? Template(JsonObject obj, string key, string where)
    {
        if (!obj.TryGetPropertyValue(key, out var value))
        {
            return null;
        }

        if (value is not JsonObject && key != "Parameters")
        {
            _errors.Add($"{where}: {key} must be an object.");
            return null;
        }

        return PayloadTemplate.Compile(value, $"{where}: {key}", _errors);
    }

    /// <summary>A path field where JSON null means "no data" ({} for InputPath/OutputPath, discard for ResultPath).</summary>
    private JsonPath? OptionalPath(JsonObject obj, string key, string where, bool definite)
    {
        if (!obj.TryGetPropertyValue(key, out var value))
        {
            return StateNode.Root;
        }

        return value is null ? null : Path(obj, key, where, definite);
    }

    private JsonPath? Path(JsonObject obj, string key, string where, bool definite)
    {
        if (!obj.TryGetPropertyValue(key, out var value) || value is null)
        {
            return null;
        }

        if (!Json.TryGetString(value, out var text))
        {
            _errors.Add($"{where}: {key} must be a string path.");
            return null;
        }

        if (!JsonPath.TryParse(text, out var path, out var error))
        {
            _errors.Add($"{where}: {key}: {error}");
            return null;
        }

        if (definite && !path.IsDefinite)
        {
            _errors.Add($"{where}: {key} '{text}' must be a reference path (names and indices only, no wildcards or filters).");
            return null;
        }

        if (key is "ResultPath" && path.VariableName is not null)
        {
            _errors.Add($"{where}: {key} '{text}' cannot be a variable; variables are readable in every JSONPath field but ResultPath.");
            return null;
        }

        if (definite && key is "ResultPath" && path.IsContext)
        {
            _errors.Add($"{where}: {key} '{text}' cannot write into the context object.");
            return null;
        }

        return path;
    }

    private string? Str(JsonObject obj, string key, string where, bool required)
    {
        if (!obj.TryGetPropertyValue(key, out var value) || value is null)
        {
            if (required)
            {
                _errors.Add($"{where}: missing {key}.");
            }

            return null;
        }

        if (!Json.TryGetString(value, out var text))
        {
            _errors.Add($"{where}: {key} must be a string.");
            return null;
        }

        return text;
    }

    private int? PositiveInt(JsonObject obj, string key, string where)
    {
        if (!obj.TryGetPropertyValue(key, out var value) || value is null)
        {
            return null;
        }

        if (Json.TryGetInteger(value, out var v) && v >= 1 && v <= 99999999)
        {
            return (int)v;
        }

        _errors.Add($"{where}: {key} must be a positive integer.");
        return null;
    }

    private T Bad<T>(string message)
        where T : struct
    {
        _errors.Add(message);
        return default;
    }

    private JsonataTemplate? Jsonata(JsonObject obj, string key, string where) =>
        obj.TryGetPropertyValue(key, out var value) ? JsonataTemplate.Compile(value, $"{where}: {key}", _errors) : null;
}
