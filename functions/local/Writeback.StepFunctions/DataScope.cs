using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Where paths in payload templates and intrinsic functions read from: the state's data and the context object.</summary>
internal abstract class DataScope
{
    public abstract bool TryResolve(JsonPath path, out JsonNode? value);

    /// <summary>Seeded per engine so MathRandom and UUID repeat in tests.</summary>
    public abstract int NextRandom(int minInclusive, int maxExclusive);

    public abstract void NextBytes(Span<byte> bytes);
}
