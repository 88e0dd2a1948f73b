using System.Text.Json.Nodes;

namespace Writeback.StepFunctions.Local.Journal;

/// <summary>
/// A checkpoint as the journal stores it: <c>{"state", "input", "variables": {name: value}, "iterations": n, "succeeded": [{"index", "result"}]}</c>.
/// Only the succeeded iterations are written; the rest are what a resumed Map runs again.
/// </summary>
internal static class CheckpointJson
{
    public static string Write(ResumePoint checkpoint)
    {
        var json = new JsonObject { ["state"] = checkpoint.StateName, ["input"] = checkpoint.Input?.DeepClone() };
        if (checkpoint.Variables is { Count: > 0 } variables)
        {
            json["variables"] = new JsonObject(variables.Select(v => KeyValuePair.Create(v.Key, v.Value?.DeepClone())));
        }

        if (checkpoint.IterationSucceeded is { } succeeded)
        {
            json["iterations"] = succeeded.Count;
            json["succeeded"] = new JsonArray([.. Enumerable.Range(0, succeeded.Count).Where(i => succeeded[i])
                .Select(i => (JsonNode)new JsonObject { ["index"] = i, ["result"] = checkpoint.IterationResults![i]?.DeepClone() })]);
        }

        return json.ToJsonString();
    }

    public static ResumePoint Read(string text)
    {
        var json = JsonNode.Parse(text)!.AsObject();
        var checkpoint = new ResumePoint(json["state"]!.GetValue<string>(), json["input"]?.DeepClone())
        {
            Variables = json["variables"] is JsonObject variables ? variables.ToDictionary(v => v.Key, v => v.Value?.DeepClone()) : null,
        };
        if (json["iterations"] is not { } iterations)
        {
            return checkpoint;
        }

        var count = iterations.GetValue<int>();
        var results = new JsonNode?[count];
        var succeeded = new bool[count];
        foreach (var item in json["succeeded"]!.AsArray())
        {
            var index = item!["index"]!.GetValue<int>();
            results[index] = item["result"]?.DeepClone();
            succeeded[index] = true;
        }

        return checkpoint with { IterationResults = results, IterationSucceeded = succeeded };
    }
}
