using Writeback.StepFunctions.Jsonata;

namespace Writeback.StepFunctions;

internal sealed partial class ExecutionRunner
{
    /// <summary>The engine's one randomness (seeded by <see cref="StepFunctionsEngineOptions.RandomSeed"/>) for JSONata's $random, $uuid and $shuffle.</summary>
    private sealed class EngineRandomness(StepFunctionsEngine engine) : IJsonataRandomness
    {
        public double NextDouble() => engine.NextDouble();

        public void NextBytes(Span<byte> bytes) => engine.NextBytes(bytes);
    }
}
