using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// Runs its item processor once per item, MaxConcurrency at a time: inline, or as child executions when its
/// ProcessorConfig Mode is DISTRIBUTED (<see cref="Distributed"/>).
/// </summary>
internal sealed class MapState : RetryingState
{
    public static readonly HashSet<string> JsonPathFields = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Retry", "Catch", "ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "MaxConcurrency", "MaxConcurrencyPath"];
    public static readonly HashSet<string> JsonataFields = ["Type", "Assign", "Comment", "QueryLanguage", "Next", "End", "Output", "Retry", "Catch", "ItemProcessor", "Iterator", "Items", "ItemSelector", "MaxConcurrency"];

    public override StateType Type => StateType.Map;

    public StateGraph? Processor { get; set; }

    public JsonPath? ItemsPath { get; set; } = Root;

    public PayloadTemplate? ItemSelector { get; set; }

    /// <summary>0: no limit of its own (the engine's cap applies).</summary>
    public int MaxConcurrency { get; set; }

    public JsonPath? MaxConcurrencyPath { get; set; }

    /// <summary>JSONata: the items, when they are not the state input itself.</summary>
    public JsonataTemplate? Items { get; set; }

    public JsonataTemplate? JsonataItemSelector { get; set; }

    public JsonataTemplate? MaxConcurrencyExpression { get; set; }

    /// <summary>Set when the Map runs its items as child executions (ProcessorConfig Mode DISTRIBUTED).</summary>
    public DistributedMapConfig? Distributed { get; set; }

    public override IEnumerable<StateGraph> InnerGraphs => Processor is null ? [] : [Processor];
}

public sealed partial class StateMachineDefinition
{
    private void ParseMap(MapState state, JsonObject obj, string where)
    {
        ParseProcessor(state, obj, where);
        state.ItemsPath = Path(obj, "ItemsPath", where, definite: true) ?? StateNode.Root;
        if (obj.ContainsKey("ItemSelector") && obj.ContainsKey("Parameters"))
        {
            _errors.Add($"{where}: ItemSelector and Parameters (its legacy name) are mutually exclusive.");
        }

        // A Map's Parameters is the legacy name of ItemSelector: it shapes each item, not the Map's input.
        state.ItemSelector = Template(obj, "ItemSelector", where) ?? state.Parameters;
        state.Parameters = null;
        if (obj["MaxConcurrency"] is { } mc)
        {
            if (Json.TryGetInteger(mc, out var m) && m >= 0 && m <= int.MaxValue)
            {
                state.MaxConcurrency = (int)m;
            }
            else
            {
                _errors.Add($"{where}: MaxConcurrency must be a non-negative integer.");
            }
        }

        state.MaxConcurrencyPath = Path(obj, "MaxConcurrencyPath", where, definite: true);
        if (obj.ContainsKey("MaxConcurrency") && state.MaxConcurrencyPath is not null)
        {
            _errors.Add($"{where}: MaxConcurrency and MaxConcurrencyPath are mutually exclusive.");
        }

        if (IsDistributed(obj))
        {
            ParseDistributedMap(state, obj, where);
        }
    }

    private void ParseProcessor(MapState state, JsonObject obj, string where)
    {
        var hasProcessor = obj["ItemProcessor"] is JsonObject;
        var hasIterator = obj["Iterator"] is JsonObject;
        if (hasProcessor == hasIterator)
        {
            _errors.Add($"{where}: a Map state needs exactly one of ItemProcessor or Iterator.");
        }

        if (obj["ItemProcessor"] is JsonObject processor)
        {
            if (processor["ProcessorConfig"] is JsonObject config)
            {
                foreach (var key in config.Select(p => p.Key).Where(k => k is not ("Mode" or "ExecutionType")))
                {
                    _errors.Add($"{where}: unknown field '{key}' in ProcessorConfig.");
                }

                var mode = Str(config, "Mode", where, false);
                if (mode == "DISTRIBUTED" && state.IsJsonata)
                {
                    _errors.Add($"{where}: a Distributed Map in a JSONata state is not supported by the local engine; use JSONPath for this state.");
                }
                else if (mode is not (null or "INLINE" or "DISTRIBUTED"))
                {
                    _errors.Add($"{where}: ProcessorConfig Mode '{mode}' is not INLINE or DISTRIBUTED.");
                }
            }

            state.Processor = ParseGraph(processor, $"The item processor of state '{state.Name}'", isProcessor: true);
        }
        else if (obj["Iterator"] is JsonObject iterator)
        {
            state.Processor = ParseGraph(iterator, $"The iterator of state '{state.Name}'", isProcessor: false);
        }
    }

    private void ParseJsonataMap(MapState state, JsonObject obj, string where)
    {
        ParseProcessor(state, obj, where);
        state.Items = Jsonata(obj, "Items", where);
        state.JsonataItemSelector = Jsonata(obj, "ItemSelector", where);
        state.MaxConcurrencyExpression = Jsonata(obj, "MaxConcurrency", where);
    }
}
