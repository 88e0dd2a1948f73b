using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests.Differential;

/// <summary>
/// The engine against the npm package aws-local-stepfunctions (tests/tools, installed by scripts/test-prerequisites.sh)
/// on a generated corpus of JSONPath state machines: the same definition and input on both, the same output or the same
/// error name expected. The corpus is deterministic (a fixed seed), so a disagreement reproduces; the test prints the
/// agreement count and every disagreement with its definition and input.
/// </summary>
public sealed class AwsLocalStepFunctionsDifferentialTests(ITestOutputHelper output)
{
    private const int Seed = 20261202;
    private const int Count = 360;

    /// <summary>
    /// Where aws-local-stepfunctions 3.0.0 departs from the AWS documentation: a case this applies to is run on both
    /// engines but not compared. Each entry says what the package does and what the documentation says.
    /// </summary>
    private static readonly Exclusion[] Exclusions =
    [
        new("a Pass Result that is null, false, 0 or \"\"",
            "the package passes the state input through instead; the Pass state's Result is its output (Pass workflow state: 'Result')",
            c => States(c.Definition).Any(s => (string?)s["Type"] == "Pass" && s.TryGetPropertyValue("Result", out var r) && IsFalsy(r))),
        new("ResultPath \"$\"",
            "the package writes a field named \"$\"; ResultPath \"$\" replaces the whole state input with the result (Specifying state output using ResultPath)",
            c => States(c.Definition).SelectMany(s => ((JsonNode?[])[s]).Concat(s["Catch"]?.AsArray() ?? [])).Any(o => o is JsonObject x && (string?)x["ResultPath"] == "$")),
        new("States.TaskFailed in ErrorEquals",
            "the package matches only that name; in a Retry or Catch States.TaskFailed matches any error but States.Timeout (Error names: States.TaskFailed)",
            c => States(c.Definition).SelectMany(s => (s["Retry"]?.AsArray() ?? []).Concat(s["Catch"]?.AsArray() ?? []))
                .Any(r => r!["ErrorEquals"]!.AsArray().Any(e => (string?)e == StatesErrors.TaskFailed))),
        new("\"IsPresent\": false",
            "the package never matches it, not even for an absent field; IsPresent false matches when the field is absent (Choice rules: IsPresent)",
            c => Descendants(c.Definition).OfType<JsonObject>().Any(o => o["IsPresent"] is JsonValue v && Json.ToCompactString(v) == "false")),
        new("a StringMatches pattern with \"?\"",
            "the package (wildcard-match) takes ? for any one character; in StringMatches only * is a wildcard (Choice rules: StringMatches)",
            c => Descendants(c.Definition).OfType<JsonObject>().Any(o => o["StringMatches"] is JsonValue v && Json.ToCompactString(v).Contains('?', StringComparison.Ordinal))),
        new("the path \"$\" over an item that is 0",
            "the package answers States.Runtime 'does not point to a value' when the whole document is falsy; \"$\" selects the whole input, whatever it is (Reference paths)",
            c => States(c.Definition).Any(s => (string?)s["ItemsPath"] == "$.xs" && !s.ContainsKey("ItemSelector"))
                && c.Input["xs"]!.AsArray().Any(IsFalsy)),
    ];

    [Fact]
    public async Task The_engine_agrees_with_aws_local_stepfunctions_on_a_generated_corpus_of_JSONPath_definitions()
    {
        var corpus = JsonPathCorpus.Generate(Seed, Count);
        var theirs = await RunOnNpmAsync(corpus);
        var agreed = 0;
        var excluded = new List<string>();
        var disagreements = new StringBuilder();
        foreach (var c in corpus)
        {
            var ours = await RunOnEngineAsync(c);
            var other = theirs[c.Name];
            var skip = Exclusions.Where(e => e.Applies(c)).Select(e => e.What).ToList();
            if (skip.Count > 0)
            {
                excluded.Add($"{c.Name}: {string.Join("; ", skip)}{(Agree(ours, other) ? " (agrees anyway)" : "")}");
                continue;
            }

            if (Agree(ours, other))
            {
                agreed++;
                continue;
            }

            disagreements.AppendLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"""
                {c.Name} [{string.Join(", ", c.Features.Order())}]
                  definition: {c.Definition.ToJsonString()}
                  input:      {c.Input.ToJsonString()}
                  engine:     {ours.ToJsonString()}
                  npm:        {other.ToJsonString()}
                """));
        }

        var compared = corpus.Count - excluded.Count;
        output.WriteLine($"aws-local-stepfunctions differential (seed {Seed}): {agreed}/{compared} agree, {excluded.Count} excluded");
        foreach (var e in Exclusions)
        {
            output.WriteLine($"  exclusion: {e.What}: {e.Reason}");
        }

        foreach (var e in excluded)
        {
            output.WriteLine($"  excluded {e}");
        }

        Assert.True(compared >= 200, $"only {compared} cases compared; the corpus must keep at least 200");
        Assert.True(disagreements.Length == 0, $"{compared - agreed} of {compared} disagree:\n{disagreements}");
    }

    /// <summary>Every state of a definition, those in branches and item processors included.</summary>
    private static IEnumerable<JsonObject> States(JsonObject graph)
    {
        foreach (var (_, node) in graph["States"]!.AsObject())
        {
            var state = node!.AsObject();
            yield return state;
            var children = (state["Branches"]?.AsArray().Select(b => b!.AsObject()) ?? []).Concat(state["ItemProcessor"] is JsonObject p ? [p] : []);
            foreach (var inner in children.SelectMany(States))
            {
                yield return inner;
            }
        }
    }

    private static IEnumerable<JsonNode?> Descendants(JsonNode? node) => node switch
    {
        JsonObject o => o.Select(p => p.Value).SelectMany(Descendants).Prepend(o),
        JsonArray a => a.SelectMany(Descendants).Prepend(a),
        _ => [node],
    };

    private static bool IsFalsy(JsonNode? value) => value is null || Json.ToCompactString(value) is "false" or "0" or "\"\"";

    /// <summary>Same status, and then the same output (SUCCEEDED) or the same error name (FAILED).</summary>
    private static bool Agree(JsonObject ours, JsonObject theirs)
    {
        var status = (string?)ours["status"];
        if (status != (string?)theirs["status"])
        {
            return false;
        }

        return status switch
        {
            "SUCCEEDED" => JsonNode.DeepEquals(ours["output"], theirs["output"]),
            "FAILED" => (string?)ours["error"] == (string?)theirs["error"],
            _ => true,
        };
    }

    private static async Task<JsonObject> RunOnEngineAsync(CorpusCase c)
    {
        var engine = Engine();
        StateMachine machine;
        try
        {
            machine = engine.CreateStateMachine("differential", c.Definition.ToJsonString());
        }
        catch (InvalidDefinitionException e)
        {
            return new JsonObject { ["status"] = "INVALID", ["message"] = string.Join("; ", e.Errors) };
        }

        var execution = await engine.RunAsync(machine, c.Input.ToJsonString());
        return execution.Status == ExecutionStatus.Succeeded
            ? new JsonObject { ["status"] = "SUCCEEDED", ["output"] = JsonNode.Parse(execution.OutputJson!) }
            : new JsonObject { ["status"] = execution.StatusName, ["error"] = execution.Error, ["cause"] = execution.Cause };
    }

    /// <summary>The whole corpus in one node process (one start-up, not 240), results by case name.</summary>
    private static async Task<Dictionary<string, JsonObject>> RunOnNpmAsync(IReadOnlyList<CorpusCase> corpus)
    {
        var root = RepoRoot();
        var modules = Path.Combine(root, "tests", "tools", "node_modules");
        Assert.True(Directory.Exists(Path.Combine(modules, "aws-local-stepfunctions")),
            $"{modules}/aws-local-stepfunctions is missing: run scripts/test-prerequisites.sh (./writeback test does).");
        var file = Path.Combine(Path.GetTempPath(), $"differential-{Guid.NewGuid():N}.json");
        var cases = new JsonArray([.. corpus.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Name,
            ["definition"] = c.Definition.DeepClone(),
            ["input"] = c.Input.DeepClone(),
        })]);
        await File.WriteAllTextAsync(file, cases.ToJsonString());
        try
        {
            var start = new ProcessStartInfo("node", [Path.Combine(root, "tests", "local", "Writeback.StepFunctions.Tests", "Differential", "aws-local-stepfunctions-runner.cjs"), file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["NODE_PATH"] = modules;
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"the aws-local-stepfunctions runner exited {process.ExitCode}:\n{await stderr}");
            return JsonNode.Parse(await stdout)!.AsArray().Select(r => r!.AsObject()).ToDictionary(r => (string)r["name"]!, StringComparer.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private sealed record Exclusion(string What, string Reason, Func<CorpusCase, bool> Applies);
}
