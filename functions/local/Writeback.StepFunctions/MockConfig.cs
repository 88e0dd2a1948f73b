using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// A Step Functions Local MockConfigFile: StateMachines → TestCases → {state name: mocked response name}, and
/// MockedResponses → {attempt key ("0", "1-2"): {"Return": …} or {"Throw": {"Error", "Cause"}}}.
/// </summary>
public sealed class MockConfig
{
    private readonly JsonObject _root;

    private MockConfig(JsonObject root) => _root = root;

    public static MockConfig Parse(string json)
    {
        var root = Json.Parse(json) as JsonObject ?? throw new FormatException("A mock config file must be a JSON object.");
        var config = new MockConfig(root);
        if (root["MockedResponses"] is JsonObject responses)
        {
            foreach (var (name, _) in responses)
            {
                _ = config.Response(name);
            }
        }

        return config;
    }

    public IEnumerable<string> TestCaseNames(string stateMachineName) =>
        (_root["StateMachines"]?[stateMachineName]?["TestCases"] as JsonObject)?.Select(p => p.Key) ?? [];

    /// <summary>The test case's mocks; throws when the state machine or the test case is not in the file.</summary>
    public MockTestCase TestCase(string stateMachineName, string testCaseName)
    {
        if (_root["StateMachines"]?[stateMachineName] is not JsonObject machine)
        {
            throw new KeyNotFoundException($"The mock config has no state machine '{stateMachineName}'.");
        }

        if (machine["TestCases"]?[testCaseName] is not JsonObject testCase)
        {
            throw new KeyNotFoundException($"The mock config has no test case '{testCaseName}' for state machine '{stateMachineName}'.");
        }

        var states = new Dictionary<string, MockedResponse>(StringComparer.Ordinal);
        foreach (var (state, responseName) in testCase)
        {
            if (!Json.TryGetString(responseName, out var name))
            {
                throw new FormatException($"Test case '{testCaseName}': the mock for state '{state}' must name a mocked response.");
            }

            states[state] = Response(name);
        }

        return new MockTestCase(states);
    }

    private MockedResponse Response(string name)
    {
        if (_root["MockedResponses"]?[name] is not JsonObject response)
        {
            throw new KeyNotFoundException($"The mock config has no mocked response '{name}'.");
        }

        var steps = new List<MockStep>();
        foreach (var (key, value) in response)
        {
            var range = key.Split('-');
            if (range.Length is < 1 or > 2
                || !int.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                || !int.TryParse(range[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var to) || to < from)
            {
                throw new FormatException($"Mocked response '{name}': '{key}' is not an attempt number or range such as \"0\" or \"1-2\".");
            }

            if (value is not JsonObject step || step.Count != 1 || !(step.ContainsKey("Return") || step["Throw"] is JsonObject))
            {
                throw new FormatException($"Mocked response '{name}', attempt '{key}': needs exactly one of Return or Throw.");
            }

            if (step["Throw"] is JsonObject thrown)
            {
                var error = Json.TryGetString(thrown["Error"], out var e) ? e : throw new FormatException($"Mocked response '{name}', attempt '{key}': Throw needs an Error string.");
                steps.Add(new MockStep(from, to, null, error, Json.TryGetString(thrown["Cause"], out var c) ? c : null));
            }
            else
            {
                steps.Add(new MockStep(from, to, step["Return"]?.DeepClone(), null, null));
            }
        }

        if (steps.Count == 0)
        {
            throw new FormatException($"Mocked response '{name}' has no attempts.");
        }

        return new MockedResponse(name, [.. steps.OrderBy(s => s.From)]);
    }
}

/// <summary>The mocks of one test case, by state name.</summary>
public sealed class MockTestCase(IReadOnlyDictionary<string, MockedResponse> states)
{
    public IReadOnlyDictionary<string, MockedResponse> States { get; } = states;
}

/// <summary>
/// One mocked response: what the state's invocation number n returns or throws, counted over the whole execution
/// (0 = its first call; each retry and each Map iteration's call is the next number), as Step Functions Local counts.
/// </summary>
public sealed class MockedResponse(string name, IReadOnlyList<MockStep> steps)
{
    public string Name { get; } = name;

    public IReadOnlyList<MockStep> Steps { get; } = steps;

    /// <summary>The step for an attempt; past the last key the last step repeats, so a short file never runs dry.</summary>
    public MockStep ForInvocation(int invocation) => Steps.FirstOrDefault(s => invocation >= s.From && invocation <= s.To) ?? Steps[^1];
}

public sealed record MockStep(int From, int To, JsonNode? Return, string? Error, string? Cause);
