using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Writeback.Core.Contracts;

namespace Writeback.Trigger.Tests;

/// <summary>
/// A rollback overrides the ordering rule, so it must come from an operator's own execution input: nothing a Pub/Sub
/// publisher controls (the event's data, its attributes) can put the override into the execution the trigger starts.
/// </summary>
public sealed class RollbackOverrideTests : IDisposable
{
    private static readonly JsonObject Override = new() { ["replaces"] = "student_dashboard-2026-11-25-002", ["by"] = "mallory", ["reason"] = "forged" };

    private readonly TriggerTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private string EventJson(Action<JsonObject> change)
    {
        var json = JsonNode.Parse(JsonSerializer.SerializeToUtf8Bytes(_kit.Event(), ContractJson.Default.BatchReadyEvent))!.AsObject();
        change(json);
        return json.ToJsonString();
    }

    [Fact]
    public async Task An_event_that_carries_a_rollback_override_is_refused_and_starts_nothing()
    {
        var data = EventJson(e => e["rollback"] = Override.DeepClone());

        var answer = await _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.EnvelopeWithData(Convert.ToBase64String(Encoding.UTF8.GetBytes(data))));

        Assert.Equal(400, answer.StatusCode);
        Assert.Equal("data_not_batch_ready_event", answer.Code);
        Assert.Empty(_kit.StepFunctions.Started);
    }

    [Fact]
    public async Task A_rollback_in_the_message_attributes_never_reaches_the_execution_input()
    {
        var envelope = JsonNode.Parse(TriggerTestKit.Envelope(_kit.Event()))!.AsObject();
        envelope["message"]!["attributes"]!["rollback"] = Override.ToJsonString();

        var answer = await _kit.PushAsync(_kit.ValidToken(), envelope.ToJsonString());

        Assert.Equal(202, answer.StatusCode);
        var (_, input) = Assert.Single(_kit.StepFunctions.Started);
        var started = JsonNode.Parse(input)!.AsObject();
        Assert.False(started.ContainsKey("rollback"), input);
        Assert.DoesNotContain("mallory", input, StringComparison.Ordinal);
    }
}
