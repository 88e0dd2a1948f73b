using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Writeback.StepFunctions;
using Writeback.StepFunctions.Benchmarks;

BenchmarkSwitcher.FromAssembly(typeof(TransitionBenchmarks).Assembly).Run(args);

namespace Writeback.StepFunctions.Benchmarks
{

    /// <summary>
    /// The local engine's own cost per state transition, with no work inside the states: a chain of 10,000 Pass states,
    /// and an inline Map of 1,000 items with one Pass state per item. Results are per transition (per item for the Map).
    /// </summary>
    [MemoryDiagnoser]
    public class TransitionBenchmarks
    {
        private const int Chain = 10_000;
        private const int Items = 1_000;

        private StateMachine _chain = null!;
        private StateMachine _map = null!;
        private string _mapInput = "";

        [GlobalSetup]
        public void Setup()
        {
            var states = new JsonObject();
            for (var i = 0; i < Chain; i++)
            {
                var state = new JsonObject { ["Type"] = "Pass" };
                if (i + 1 < Chain)
                {
                    state["Next"] = $"S{i + 1}";
                }
                else
                {
                    state["End"] = true;
                }

                states[$"S{i}"] = state;
            }

            var engine = NewEngine();
            _chain = engine.CreateStateMachine("chain", new JsonObject { ["StartAt"] = "S0", ["States"] = states }.ToJsonString());
            _map = engine.CreateStateMachine("map", """
                {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":40,
                  "ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
                  "ResultPath":null,"End":true}}}
                """);
            _mapInput = new JsonObject { ["items"] = new JsonArray([.. Enumerable.Range(0, Items).Select(i => (JsonNode)i)]) }.ToJsonString();
        }

        // A fresh engine per run keeps finished executions from piling up across iterations.
        private static StepFunctionsEngine NewEngine() => new(new StepFunctionsEngineOptions { TimeProvider = new VirtualClock(), RandomSeed = 1 });

        [Benchmark(OperationsPerInvoke = Chain, Description = "Pass chain, per transition")]
        public async Task PassChain() => await Check(await NewEngine().RunAsync(_chain, """{"batchId":"b-1","manifestUri":"file:///m.json"}"""));

        [Benchmark(OperationsPerInvoke = Items, Description = "Inline Map of 1,000, per item")]
        public async Task MapOfPass() => await Check(await NewEngine().RunAsync(_map, _mapInput));

        private static Task Check(Execution execution) =>
            execution.Status == ExecutionStatus.Succeeded ? Task.CompletedTask : throw new InvalidOperationException($"{execution.Error}: {execution.Cause}");
    }
}
