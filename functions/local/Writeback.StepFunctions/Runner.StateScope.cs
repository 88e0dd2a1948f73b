using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

internal sealed partial class ExecutionRunner
{
    /// <summary>What <c>$</c> and <c>$$</c> mean inside one state: its data, and the context object built on demand.</summary>
    internal sealed class StateScope(ExecutionRunner runner, string stateName, DateTimeOffset entered, int retryCount, JsonNode? data, (int Index, JsonNode? Value)? item) : DataScope
    {
        public StateScope With(JsonNode? newData, (int, JsonNode?)? newItem = null) => new(runner, stateName, entered, retryCount, newData, newItem ?? item);

        public override bool TryResolve(JsonPath path, out JsonNode? value)
        {
            if (path.VariableName is not null)
            {
                return TryResolveVariable(path, out value);
            }

            if (!path.IsContext)
            {
                return path.TryEvaluate(data, out value);
            }

            var root = path.FirstName switch
            {
                "Execution" => runner._executionContext,
                "StateMachine" => runner._stateMachineContext,
                "State" => StateContext(),
                "Map" when item is not null => MapContext(),
                _ => null,
            };
            return root is not null ? path.TryEvaluate(root, 1, out value) : path.TryEvaluate(FullContext(), 0, out value);
        }

        public override int NextRandom(int minInclusive, int maxExclusive) => runner._engine.NextRandom(minInclusive, maxExclusive);

        public override void NextBytes(Span<byte> bytes) => runner._engine.NextBytes(bytes);

        private JsonObject StateContext() => new()
        {
            ["EnteredTime"] = Json.FormatTimestamp(entered),
            ["Name"] = stateName,
            ["RetryCount"] = retryCount,
        };

        private JsonObject MapContext() => new()
        {
            ["Item"] = new JsonObject { ["Index"] = item!.Value.Index, ["Value"] = item.Value.Value?.DeepClone() },
        };

        internal JsonObject FullContext()
        {
            var context = new JsonObject
            {
                ["Execution"] = runner._executionContext.DeepClone(),
                ["State"] = StateContext(),
                ["StateMachine"] = runner._stateMachineContext.DeepClone(),
            };
            if (item is not null)
            {
                context["Map"] = MapContext();
            }

            return context;
        }
    }
}
