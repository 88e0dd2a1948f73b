using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

internal enum ResourceKind { LambdaInvoke, LambdaFunction, ServiceIntegration }

/// <summary>Calls a Lambda function (lambda:invoke or a function ARN) or, when mocked, another service integration.</summary>
internal sealed class TaskState : RetryingState
{
    public static readonly HashSet<string> JsonPathFields = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"];
    public static readonly HashSet<string> JsonataFields = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "Output", "Arguments", "Retry", "Catch", "Resource", "TimeoutSeconds", "HeartbeatSeconds"];

    public override StateType Type => StateType.Task;

    public string? Resource { get; set; }

    public ResourceKind ResourceKind { get; set; }

    /// <summary>The function a Resource of the form arn:aws:lambda:…:function:name calls.</summary>
    public string? FunctionName { get; set; }

    public int? TimeoutSeconds { get; set; }

    public JsonPath? TimeoutSecondsPath { get; set; }

    public int? HeartbeatSeconds { get; set; }

    public JsonPath? HeartbeatSecondsPath { get; set; }

    public JsonataTemplate? TimeoutSecondsExpression { get; set; }

    public JsonataTemplate? HeartbeatSecondsExpression { get; set; }
}

public sealed partial class StateMachineDefinition
{
    private static readonly string[] LambdaInvokeParameters = ["FunctionName", "Payload", "InvocationType", "Qualifier", "ClientContext", "LogType"];

    private void ParseTask(TaskState state, JsonObject obj, string where)
    {
        var resource = Str(obj, "Resource", where, true);
        state.Resource = resource;
        state.TimeoutSeconds = PositiveInt(obj, "TimeoutSeconds", where);
        state.TimeoutSecondsPath = Path(obj, "TimeoutSecondsPath", where, definite: true);
        state.HeartbeatSeconds = PositiveInt(obj, "HeartbeatSeconds", where);
        state.HeartbeatSecondsPath = Path(obj, "HeartbeatSecondsPath", where, definite: true);
        if (state.TimeoutSeconds is not null && state.TimeoutSecondsPath is not null)
        {
            _errors.Add($"{where}: TimeoutSeconds and TimeoutSecondsPath are mutually exclusive.");
        }

        if (state.HeartbeatSeconds is not null && state.HeartbeatSecondsPath is not null)
        {
            _errors.Add($"{where}: HeartbeatSeconds and HeartbeatSecondsPath are mutually exclusive.");
        }

        if (state.HeartbeatSeconds is { } hb && state.TimeoutSeconds is { } to && hb >= to)
        {
            _errors.Add($"{where}: HeartbeatSeconds ({hb}) must be smaller than TimeoutSeconds ({to}).");
        }

        if (resource is null)
        {
            return;
        }

        if (resource.Contains("${", StringComparison.Ordinal))
        {
            _errors.Add($"{where}: Resource '{resource}' still holds a DefinitionSubstitutions placeholder; substitute it before loading.");
            return;
        }

        if (resource.EndsWith(".waitForTaskToken", StringComparison.Ordinal))
        {
            _errors.Add($"{where}: the .waitForTaskToken (callback) integration pattern is not supported by the local engine.");
            return;
        }

        if (resource.Contains(".sync", StringComparison.Ordinal))
        {
            _errors.Add($"{where}: the .sync (run a job) integration pattern is not supported by the local engine.");
            return;
        }

        var parts = resource.Split(':');
        if (parts.Length >= 6 && parts[0] == "arn" && parts[2] == "states" && parts[5] == "activity")
        {
            _errors.Add($"{where}: activities ('{resource}') are not supported by the local engine.");
            return;
        }

        if (resource == "arn:aws:states:::lambda:invoke")
        {
            state.ResourceKind = ResourceKind.LambdaInvoke;
            var parameters = obj["Parameters"] as JsonObject;
            if (parameters is null || !(parameters.ContainsKey("FunctionName") || parameters.ContainsKey("FunctionName.$")))
            {
                _errors.Add($"{where}: lambda:invoke needs Parameters with FunctionName.");
            }
            else
            {
                if (parameters["FunctionName"] is { } fn && Json.TryGetString(fn, out var fnText) && fnText.Contains("${", StringComparison.Ordinal))
                {
                    _errors.Add($"{where}: FunctionName '{fnText}' still holds a DefinitionSubstitutions placeholder; substitute it before loading.");
                }

                foreach (var key in parameters.Select(p => p.Key).Where(k => !LambdaInvokeParameters.Contains(k.EndsWith(".$", StringComparison.Ordinal) ? k[..^2] : k)))
                {
                    _errors.Add($"{where}: '{key}' is not a parameter of lambda:invoke.");
                }
            }

            return;
        }

        if (parts.Length >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function")
        {
            state.ResourceKind = ResourceKind.LambdaFunction;
            state.FunctionName = parts[6];
            return;
        }

        if (parts.Length >= 6 && parts[0] == "arn" && parts[2] == "states" && parts[3].Length == 0 && parts[4].Length == 0)
        {
            // Other service integrations load (a mock file may cover them) and fail at run time if they are not mocked.
            state.ResourceKind = ResourceKind.ServiceIntegration;
            return;
        }

        _errors.Add($"{where}: Resource '{resource}' is not a Lambda function ARN or a Step Functions service integration ARN.");
    }

    private void ParseJsonataTask(TaskState state, JsonObject obj, string where)
    {
        state.Arguments = Jsonata(obj, "Arguments", where);
        // The Task checks see literal fields only: an expression is checked when it is evaluated.
        var literal = new JsonObject();
        foreach (var key in (string[])["Resource", "TimeoutSeconds", "HeartbeatSeconds"])
        {
            if (obj[key] is { } v && !(Json.TryGetString(v, out var t) && JsonataTemplate.IsExpressionText(t)))
            {
                literal[key] = v.DeepClone();
            }
        }

        if (obj["Arguments"] is JsonObject args)
        {
            literal["Parameters"] = args.DeepClone();
        }

        var before = _errors.Count;
        ParseTask(state, literal, where);
        for (var i = before; i < _errors.Count; i++)
        {
            _errors[i] = _errors[i].Replace("Parameters", "Arguments", StringComparison.Ordinal);
        }

        state.TimeoutSecondsExpression = Jsonata(obj, "TimeoutSeconds", where);
        state.HeartbeatSecondsExpression = Jsonata(obj, "HeartbeatSeconds", where);
    }
}
