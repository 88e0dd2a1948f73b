using System.Text;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// What a Distributed Map returns: its children's outputs in item order, or — with a ResultWriter that names a bucket —
/// the results written as the service writes them (<c>Prefix/&lt;map run id&gt;/manifest.json</c> beside
/// <c>SUCCEEDED_0.json</c>, <c>FAILED_0.json</c>, <c>PENDING_0.json</c>) and a reference to the manifest.
/// </summary>
internal static class ResultWriter
{
    public static async Task<JsonNode?> CollectAsync(MapRun run, ResultWriterConfig? config, DataScope scope, LocalS3 s3, CancellationToken ct)
    {
        var count = run.ChildInputs.Count;
        if (config?.Parameters is null)
        {
            var transformation = config?.Transformation ?? ResultTransformation.Compact;
            var results = new JsonArray();
            for (var i = 0; i < count; i++)
            {
                var child = run.Child(i);
                if (child?.Status == ExecutionStatus.Succeeded && transformation != ResultTransformation.None)
                {
                    var output = Json.Parse(child.OutputJson!);
                    if (transformation == ResultTransformation.Flatten && output is JsonArray inner)
                    {
                        foreach (var element in inner.ToArray())
                        {
                            inner.Remove(element);
                            results.Add(element);
                        }
                    }
                    else
                    {
                        results.Add(output);
                    }
                }
                else
                {
                    // A failed child is returned with its metadata, as with Transformation NONE.
                    results.Add((JsonNode)Entry(run, i));
                }
            }

            return results;
        }

        var parameters = config.Parameters.Evaluate(scope) as JsonObject ?? throw new InvalidOperationException("ResultWriter Parameters is not an object");
        var bucket = Json.TryGetString(parameters["Bucket"], out var b) ? b : throw new InvalidOperationException("ResultWriter Parameters has no Bucket");
        var prefix = Json.TryGetString(parameters["Prefix"], out var p) ? p : "";
        var folder = (prefix.Length == 0 ? "" : prefix.TrimEnd('/') + "/") + run.Arn[(run.Arn.LastIndexOf(':') + 1)..] + "/";
        var groups = new Dictionary<string, List<JsonNode>>(StringComparer.Ordinal) { ["SUCCEEDED"] = [], ["FAILED"] = [], ["PENDING"] = [] };
        for (var i = 0; i < count; i++)
        {
            var entry = Entry(run, i);
            var status = entry["Status"]!.GetValue<string>();
            groups[status == "SUCCEEDED" ? "SUCCEEDED" : status == "PENDING" ? "PENDING" : "FAILED"].Add(config.Transformation == ResultTransformation.None || status != "SUCCEEDED"
                ? entry
                : Json.Parse(run.Child(i)!.OutputJson!) ?? JsonValue.Create((string?)null)!);
        }

        var files = new JsonObject();
        foreach (var (status, entries) in groups)
        {
            var list = new JsonArray();
            if (entries.Count > 0)
            {
                var key = $"{folder}{status}_0.{(config.Jsonl ? "jsonl" : "json")}";
                var text = config.Jsonl
                    ? string.Concat(entries.Select(e => Json.ToCompactString(e) + "\n"))
                    : Json.ToCompactString(new JsonArray([.. entries]));
                var size = await s3.WriteTextAsync(bucket, key, text, ct).ConfigureAwait(false);
                list.Add((JsonNode)new JsonObject { ["Key"] = key, ["Size"] = size });
            }

            files[status] = list;
        }

        var manifestKey = folder + "manifest.json";
        var manifest = new JsonObject { ["DestinationBucket"] = bucket, ["MapRunArn"] = run.Arn, ["ResultFiles"] = files };
        await s3.WriteTextAsync(bucket, manifestKey, Json.ToCompactString(manifest), ct).ConfigureAwait(false);
        run.ResultsWritten = true;
        return new JsonObject
        {
            ["MapRunArn"] = run.Arn,
            ["ResultWriterDetails"] = new JsonObject { ["Bucket"] = bucket, ["Key"] = manifestKey },
        };
    }

    /// <summary>A child execution as a results file describes it (Transformation NONE): its metadata, input and output or error.</summary>
    private static JsonObject Entry(MapRun run, int index)
    {
        var child = run.Child(index);
        if (child is null)
        {
            return new JsonObject { ["Input"] = Json.ToCompactString(run.ChildInputs[index]), ["InputDetails"] = new JsonObject { ["Included"] = true }, ["Status"] = "PENDING" };
        }

        var (status, reason) = child.Redrivability;
        var entry = new JsonObject
        {
            ["ExecutionArn"] = child.Arn,
            ["Input"] = child.InputJson,
            ["InputDetails"] = new JsonObject { ["Included"] = true },
            ["Name"] = child.Name,
        };
        if (status == ExecutionStatus.Succeeded)
        {
            entry["Output"] = child.OutputJson;
            entry["OutputDetails"] = new JsonObject { ["Included"] = true };
        }
        else
        {
            entry["Error"] = child.Error;
            entry["Cause"] = child.Cause;
        }

        entry["RedriveCount"] = child.RedriveCount;
        entry["RedriveStatus"] = reason is null && !run.Express ? "REDRIVABLE" : "NOT_REDRIVABLE";
        entry["RedriveStatusReason"] = reason ?? (run.Express ? "Express child executions are run again, not redriven" : null);
        entry["StartDate"] = Json.FormatTimestamp(child.StartDate);
        entry["StateMachineArn"] = run.StateMachineArn;
        entry["Status"] = ExecutionStatusNames.Of(status);
        entry["StopDate"] = child.StopDate is { } stop ? Json.FormatTimestamp(stop) : null;
        return entry;
    }
}
