using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Writeback.StepFunctions.Jsonata;
using Xunit.Abstractions;

namespace Writeback.StepFunctions.Tests.Jsonata;

/// <summary>
/// The reference implementation's own conformance suite (jsonata-js test/test-suite, MIT, copied beside this file with
/// its licence), run case by case against the engine's evaluator. The pass rate is printed per group and overall.
/// </summary>
public sealed class JsonataConformanceTests(ITestOutputHelper output)
{
    /// <summary>The rate this evaluator reached when the floor was recorded; a lower rate is a regression.</summary>
    private const double Floor = 0.998;

    /// <summary>Groups left out, with why: what Step Functions removes from JSONata or does not run.</summary>
    public static readonly IReadOnlyDictionary<string, string> Excluded = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["function-eval"] = "Step Functions removes $eval (use $parse)",
        ["coalescing-operator"] = "?? came in JSONata 2.1.0; Step Functions runs 2.0.6 and the engine refuses it",
        ["default-operator"] = "?: came in JSONata 2.1.0; Step Functions runs 2.0.6 and the engine refuses it",
    };

    [Fact]
    public void The_reference_conformance_suite_passes_at_or_above_the_recorded_rate()
    {
        Report? report = null;
        // Deeply recursive cases need more stack than a test thread has; the evaluator's own depth limit still applies.
        var thread = new Thread(() => report = Run(), 512 * 1024 * 1024);
        thread.Start();
        thread.Join();
        output.WriteLine(report!.Text);
        Assert.True(report.Rate >= Floor, $"JSONata conformance fell to {report.Rate:P2}, below the recorded floor {Floor:P2}.\n{report.Failures}");
    }

    private sealed record Report(double Rate, string Text, string Failures);

    private static Report Run()
    {
        var root = Path.Combine(TestKit.RepoRoot(), "tests", "local", "Writeback.StepFunctions.Tests", "Jsonata", "test-suite");
        var datasets = Directory.GetFiles(Path.Combine(root, "datasets"), "*.json")
            .ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => JsonNode.Parse(File.ReadAllText(f)), StringComparer.Ordinal);
        var text = new StringBuilder();
        var failures = new StringBuilder();
        int passed = 0, run = 0;
        foreach (var dir in Directory.GetDirectories(Path.Combine(root, "groups")).Order(StringComparer.Ordinal))
        {
            var group = Path.GetFileName(dir);
            var cases = Cases(dir).ToList();
            if (Excluded.TryGetValue(group, out var why))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{group,-32} excluded ({cases.Count} cases): {why}");
                continue;
            }

            var groupPassed = 0;
            foreach (var (name, testCase) in cases)
            {
                var failure = RunCase(dir, testCase, datasets);
                if (failure is null)
                {
                    groupPassed++;
                }
                else
                {
                    failures.AppendLine(CultureInfo.InvariantCulture, $"{group}/{name}: {failure}");
                }
            }

            passed += groupPassed;
            run += cases.Count;
            text.AppendLine(CultureInfo.InvariantCulture, $"{group,-32} {groupPassed,4}/{cases.Count,-4} {(double)groupPassed / cases.Count:P1}");
        }

        var rate = (double)passed / run;
        text.AppendLine(CultureInfo.InvariantCulture, $"overall: {passed}/{run} = {rate:P2}");
        return new Report(rate, text.ToString() + "\nfailures:\n" + failures, failures.ToString());
    }

    private static IEnumerable<(string Name, JsonObject Case)> Cases(string dir)
    {
        foreach (var file in Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal))
        {
            var node = JsonNode.Parse(File.ReadAllText(file))!;
            var name = Path.GetFileNameWithoutExtension(file);
            if (node is JsonArray many)
            {
                for (var i = 0; i < many.Count; i++)
                {
                    yield return ($"{name}[{i}]", (JsonObject)many[i]!);
                }
            }
            else
            {
                yield return (name, (JsonObject)node);
            }
        }
    }

    /// <summary>Null when the case passes, else what went wrong.</summary>
    private static string? RunCase(string dir, JsonObject c, Dictionary<string, JsonNode?> datasets)
    {
        var expectedCode = c["code"]?.GetValue<string>() ?? c["error"]?["code"]?.GetValue<string>();
        try
        {
            var expr = c["expr-file"] is { } file ? File.ReadAllText(Path.Combine(dir, file.GetValue<string>())) : c["expr"]!.GetValue<string>();
            object? input = null;
            if (c.ContainsKey("data"))
            {
                input = Values.FromJson(c["data"]);
            }
            else if (c["dataset"] is { } ds)
            {
                input = Values.FromJson(datasets[ds.GetValue<string>()]);
            }

            var bindings = (c["bindings"] as JsonObject)?.ToDictionary(b => b.Key, b => Values.FromJson(b.Value), StringComparer.Ordinal);

            var compiled = JsonataExpression.Compile(expr);
            var depth = c["depth"]?.GetValue<int>() ?? 2000;
            TimeSpan? limit = c["timelimit"] is { } t ? TimeSpan.FromMilliseconds(t.GetValue<double>()) : TimeSpan.FromSeconds(10);
            var result = compiled.EvaluateValue(input, bindings, depth, limit);
            if (expectedCode is not null)
            {
                return $"expected error {expectedCode}, got {Describe(result)}";
            }

            if (c.ContainsKey("undefinedResult"))
            {
                return result is null ? null : $"expected undefined, got {Describe(result)}";
            }

            var expected = Values.FromJson(c["result"]);
            if (c["unordered"]?.GetValue<bool>() == true && expected is JList e && result is JList r)
            {
                return e.Count == r.Count && e.All(x => r.Any(y => Values.DeepEqual(x, y))) ? null : $"expected {Describe(expected)} in any order, got {Describe(result)}";
            }

            return Values.DeepEqual(expected, Normalize(result)) ? null : $"expected {Describe(expected)}, got {Describe(result)}";
        }
        catch (JsonataException ex)
        {
            var code = ex.Code is "D1011" or "D1012" && c.ContainsKey("depth") ? "U1001" : ex.Code;
            return code == expectedCode ? null : $"expected {(expectedCode is null ? "a value" : expectedCode)}, got {ex.Message}";
        }
#pragma warning disable CA1031 // A crash in one case is that case's failure, reported, not the end of the run.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return $"crashed: {ex.GetType().Name}: {ex.Message}";
        }
    }

    /// <summary>Results compare as JSON: sequences are arrays, and a function is what JSON.stringify makes of it.</summary>
    private static object? Normalize(object? v) => v is null ? null : Values.FromJson(Values.ToJson(v));

    private static string Describe(object? v) => v is null ? "undefined" : Values.Stringify(v, pretty: false);
}
