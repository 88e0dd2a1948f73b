using System.Text.Json.Nodes;

namespace Writeback.StepFunctions.Tests;

/// <summary>JSONata's $random, $uuid and $shuffle draw from the engine's randomness, so a seeded engine repeats them.</summary>
public sealed class JsonataRandomnessTests
{
    private const string Draws = """
        {"QueryLanguage":"JSONata","StartAt":"Draw","States":{"Draw":{"Type":"Pass","End":true,
          "Output":{"random":"{% $random() %}","uuid":"{% $uuid() %}","shuffled":"{% $shuffle([1,2,3,4,5,6,7,8,9,10]) %}"}}}}
        """;

    private static async Task<JsonObject> DrawAsync(int? seed)
    {
        var engine = new StepFunctionsEngine(new StepFunctionsEngineOptions { RandomSeed = seed, TimeProvider = new VirtualClock(TestKit.Start) });
        var execution = await engine.RunAsync(engine.CreateStateMachine("draws", Draws), "{}");
        Assert.True(execution.Status == ExecutionStatus.Succeeded, $"{execution.Error}: {execution.Cause}");
        return JsonNode.Parse(execution.OutputJson!)!.AsObject();
    }

    [Fact]
    public async Task Two_engines_with_the_same_seed_draw_the_same_random_uuid_and_shuffle()
    {
        var first = await DrawAsync(7);
        var second = await DrawAsync(7);

        Assert.True(JsonNode.DeepEquals(first, second), $"{first.ToJsonString()}\n{second.ToJsonString()}");
    }

    [Fact]
    public async Task Another_seed_draws_otherwise()
    {
        var first = await DrawAsync(7);
        var other = await DrawAsync(8);

        Assert.NotEqual((string?)first["uuid"], (string?)other["uuid"]);
        Assert.NotEqual((double)first["random"]!, (double)other["random"]!);
    }

    [Fact]
    public async Task The_seeded_draws_are_still_a_number_in_0_to_1_a_version_4_uuid_and_a_permutation()
    {
        var drawn = await DrawAsync(7);

        Assert.InRange((double)drawn["random"]!, 0, 0.9999999999);
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", (string?)drawn["uuid"]);
        Assert.Equal(Enumerable.Range(1, 10), drawn["shuffled"]!.AsArray().Select(n => (int)n!).Order());
    }
}
