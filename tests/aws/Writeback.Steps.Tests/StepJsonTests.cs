using System.Text.Json;
using Writeback.Steps.Contract;

namespace Writeback.Steps.Tests;

public sealed class StepJsonTests
{
    [Fact]
    public void Verdicts_are_written_by_the_wire_names_the_state_machine_and_run_history_have_always_read()
    {
        var prepared = new PrepareOutput("b-1", "ds", "t", "file:///m.json", 0, [], StepAction.Skip, "newer", null);
        var loaded = new LoadShardOutput(3, 10, 100, ShardStatus.AlreadyLoaded);
        var published = new PublishOutput("b-1", PublishVerdict.DryRun, 1, 2, 3, 4, null, 0, [], null);

        Assert.Equal(
            """{"batchId":"b-1","dataset":"ds","target":"t","manifestUri":"file:///m.json","shardCount":0,"shardIndices":[],"action":"skip","reason":"newer","traceparent":null}""",
            JsonSerializer.Serialize(prepared, StepJson.Default.PrepareOutput));
        Assert.Equal("""{"shardIndex":3,"rows":10,"bytes":100,"status":"already_loaded"}""", JsonSerializer.Serialize(loaded, StepJson.Default.LoadShardOutput));
        Assert.Equal(
            """{"batchId":"b-1","status":"dry_run","inserted":1,"updated":2,"deleted":3,"unchanged":4,"reason":null,"rejected":0,"firstRejects":[],"samples":null}""",
            JsonSerializer.Serialize(published, StepJson.Default.PublishOutput));
        Assert.Equal(
            ["load", "skip", "applied", "loaded", "already_loaded", "applied", "already_applied", "skipped", "dry_run"],
            [.. Enum.GetValues<StepAction>().Select(StepJson.WireName), .. Enum.GetValues<ShardStatus>().Select(StepJson.WireName), .. Enum.GetValues<PublishVerdict>().Select(StepJson.WireName)]);
    }

    [Fact]
    public void The_execution_input_is_written_with_every_field_in_a_fixed_order()
    {
        Assert.Equal(
            """{"manifestUri":"gs://b/m.json","batchId":"b-1","dataset":"ds","traceparent":null,"partition":null}""",
            new ExecutionInput("gs://b/m.json", "b-1", "ds", null).ToJson());
    }

    [Fact]
    public void An_observer_reads_what_a_steps_json_holds_defaults_what_it_leaves_out_and_gets_null_for_what_does_not_fit()
    {
        // LoadShardInput's manifestUri and shardIndex are required of a step's caller, not of what an observer is shown.
        Assert.Equal(("b-1", 0, true), StepJson.Observe<LoadShardInput>("""{"batchId":"b-1","dryRun":true}""") is { } l ? (l.BatchId, l.ShardIndex, l.DryRun) : default);
        Assert.Equal((PublishVerdict.Applied, 0L), StepJson.Observe<PublishOutput>("""{"status":"applied"}""") is { } p ? (p.Status, p.Inserted) : default);
        Assert.Null(StepJson.Observe<PublishOutput>("""{"status":"maybe"}"""));
        Assert.Null(StepJson.Observe<PrepareOutput>("not json"));
        Assert.Null(StepJson.Observe<PrepareOutput>("  "));
    }

    [Fact]
    public void A_step_still_refuses_an_input_without_its_required_fields()
    {
        var e = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"batchId":"b-1"}""", StepJson.Default.LoadShardInput));

        Assert.Contains("manifestUri", e.Message, StringComparison.Ordinal);
    }
}
