using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Writeback.Steps.Contract;
using Writeback.Testing;

namespace Writeback.Steps.Tests;

/// <summary>
/// statemachines/writeback.asl.json and the step contract are one wire format seen from two sides: the state machine
/// invokes the steps by name, hands them fields by name, selects fields from their outputs and branches on their
/// values. A step input skips fields it does not know, so a name that drifts on either side would fail nowhere else.
/// </summary>
public sealed class StateMachineContractTests
{
    private const string LambdaInvoke = "arn:aws:states:::lambda:invoke";

    private static readonly Dictionary<string, (Type Input, Type Output)> Contract = new()
    {
        [StepNames.Prepare] = (typeof(PrepareInput), typeof(PrepareOutput)),
        [StepNames.LoadShard] = (typeof(LoadShardInput), typeof(LoadShardOutput)),
        [StepNames.Verify] = (typeof(BatchInput), typeof(VerifyOutput)),
        [StepNames.Publish] = (typeof(PublishInput), typeof(PublishOutput)),
        [StepNames.Cleanup] = (typeof(CleanupInput), typeof(CleanupOutput)),
    };

    private static readonly JsonObject Definition = Load();

    /// <summary>Every state, the Map iterations' included, with the state that holds it (the Map) where there is one.</summary>
    private static readonly List<(string Name, JsonObject State, JsonObject? Parent)> States = [.. Walk(Definition, null)];

    private static IEnumerable<(string Name, JsonObject State, JsonObject? Parent)> Tasks =>
        States.Where(s => (string?)s.State["Type"] == "Task");

    [Fact]
    public void Every_Task_invokes_a_step_of_the_contract_and_every_step_is_invoked()
    {
        var invoked = Tasks.Select(t =>
        {
            Assert.Equal(LambdaInvoke, (string?)t.State["Resource"]);
            return FunctionOf(t.State);
        }).ToHashSet();

        Assert.Equal(StepNames.All.Order(), invoked.Order());
    }

    [Fact]
    public void Every_field_a_Task_hands_its_step_is_a_field_of_the_steps_input_and_every_required_one_is_handed()
    {
        foreach (var (name, state, map) in Tasks)
        {
            var input = Contract[FunctionOf(state)].Input;
            var parameters = state["Parameters"]!.AsObject();
            var handed = parameters["Payload.$"] is { } path
                ? (string?)path switch
                {
                    // Prepare gets the execution input as the trigger wrote it.
                    "$.input" => WireNames(typeof(ExecutionInput)),
                    // A Map iteration gets what the Map's ItemSelector built.
                    "$" => Keys(map!["ItemSelector"]!.AsObject()),
                    var other => throw new Xunit.Sdk.XunitException($"{name}: Payload.$ '{other}' is not one this test knows"),
                }
                : Keys(parameters["Payload"]!.AsObject());

            Assert.All(handed, field => Assert.True(WireNames(input).Contains(field), $"{name} hands '{field}', which {input.Name} does not have"));
            Assert.All(RequiredNames(input), field => Assert.True(handed.Contains(field), $"{name} does not hand {input.Name}'s required '{field}'"));
        }
    }

    [Fact]
    public void Every_field_the_state_machine_selects_from_a_step_output_is_a_field_of_that_output()
    {
        var aliases = Aliases();
        var checkedPaths = 0;
        foreach (var (name, state, _) in States)
        {
            // Within a Task's ResultSelector, $.Payload is the step's own output.
            if (state["ResultSelector"] is JsonObject selector)
            {
                var output = Contract[FunctionOf(state)].Output;
                foreach (var path in Strings(selector).Where(p => p.StartsWith("$.Payload.", StringComparison.Ordinal)))
                {
                    AssertPath(name, output, path["$.Payload.".Length..]);
                    checkedPaths++;
                }
            }

            foreach (var path in Strings(state).Where(p => p.StartsWith("$.", StringComparison.Ordinal)))
            {
                if (aliases.Keys.FirstOrDefault(a => path.StartsWith(a + ".", StringComparison.Ordinal)) is { } alias)
                {
                    AssertPath(name, aliases[alias], path[(alias.Length + 1)..]);
                    checkedPaths++;
                }
            }
        }

        // Rows, shards, dropped, recordedFailure; batchId, manifestUri, action, shardCount, shardIndices, dataset, reason; Error, Cause.
        Assert.True(checkedPaths >= 15, $"only {checkedPaths} paths were checked: the aliases no longer match the definition");
    }

    [Fact]
    public void Every_value_a_Choice_compares_a_step_output_with_is_a_wire_name_of_the_contract_and_Route_covers_every_action()
    {
        var aliases = Aliases();
        var compared = new List<(string Variable, string Value)>();
        foreach (var (name, state, _) in States.Where(s => (string?)s.State["Type"] == "Choice"))
        {
            foreach (var rule in Rules(state["Choices"]!.AsArray()))
            {
                if ((string?)rule["Variable"] is not { } variable || (string?)rule["StringEquals"] is not { } value
                    || aliases.Keys.FirstOrDefault(a => variable.StartsWith(a + ".", StringComparison.Ordinal)) is not { } alias)
                {
                    continue;
                }

                var type = AssertPath(name, aliases[alias], variable[(alias.Length + 1)..]);
                Assert.True(type.IsEnum, $"{name} compares {variable}, which is not one of the contract's enums, with a string");
                Assert.Contains(value, EnumWireNames(type));
                compared.Add((variable, value));
            }
        }

        Assert.Equal(EnumWireNames(typeof(StepAction)).Order(), compared.Where(c => c.Variable == "$.batch.action").Select(c => c.Value).Order());
    }

    [Fact]
    public void Every_error_the_state_machine_matches_by_the_projects_name_is_one_a_step_fails_with()
    {
        var matched = States
            .SelectMany(s => new[] { s.State["Retry"], s.State["Catch"] })
            .OfType<JsonArray>()
            .SelectMany(rules => rules)
            .SelectMany(rule => rule!["ErrorEquals"]!.AsArray().Select(e => (string)e!))
            .Concat(States.Select(s => (string?)s.State["Error"]).OfType<string>())
            .Where(e => e.StartsWith("Writeback.", StringComparison.Ordinal))
            .ToHashSet();

        Assert.NotEmpty(matched);
        Assert.All(matched, e => Assert.Contains(e, StepErrors.All));
    }

    [Fact]
    public void Every_field_of_the_execution_output_is_a_field_of_the_contracts_execution_output()
    {
        var ends = States.Where(s => s.Parent is null && (string?)s.State["Type"] == "Pass" && s.State["End"] is not null).ToList();

        Assert.Equal(["Report", "Report no-op"], ends.Select(e => e.Name).Order());
        Assert.All(ends, end => Assert.All(Keys(end.State["Parameters"]!.AsObject()), field =>
            Assert.True(WireNames(typeof(ExecutionOutput)).Contains(field), $"{end.Name} outputs '{field}', which ExecutionOutput does not have")));
    }

    [Fact]
    public void The_step_handlers_are_the_contracts_steps_in_its_order()
    {
        var targets = Directory.CreateTempSubdirectory("writeback-targets-");
        try
        {
            var handlers = StepHandlers.Create(new StepOptions("Host=unused.invalid", targets.FullName, Writeback.Core.Storage.SourcePolicy.Gcs("unused", null)));

            Assert.Equal(StepNames.All, handlers.Select(h => h.Name));
        }
        finally
        {
            targets.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Paths that hold a whole step output (a ResultSelector's <c>"x.$": "$.Payload"</c> under its ResultPath, and a
    /// Pass state's copy of one) or a Catch's error output, with the contract type they hold.
    /// </summary>
    private static Dictionary<string, Type> Aliases()
    {
        var aliases = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (var (_, state, _) in Tasks)
        {
            if (state["ResultSelector"] is JsonObject selector && (string?)state["ResultPath"] is { } resultPath)
            {
                foreach (var (key, value) in selector)
                {
                    if ((string?)value == "$.Payload")
                    {
                        aliases[resultPath + "." + key[..^2]] = Contract[FunctionOf(state)].Output;
                    }
                }
            }
        }

        foreach (var (_, state, _) in States)
        {
            foreach (var rule in (state["Catch"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if ((string?)rule["ResultPath"] is { } errorPath)
                {
                    aliases.TryAdd(errorPath, typeof(StepError));
                }
            }
        }

        foreach (var (_, state, _) in States.Where(s => (string?)s.State["Type"] == "Pass"))
        {
            foreach (var (key, value) in state["Parameters"] as JsonObject ?? [])
            {
                if (key.EndsWith(".$", StringComparison.Ordinal) && (string?)value is { } source && aliases.TryGetValue(source, out var type))
                {
                    aliases.TryAdd("$." + key[..^2], type);
                }
            }
        }

        Assert.Contains("$.batch", aliases.Keys);
        return aliases;
    }

    /// <summary>Walks <paramref name="path"/> (dot-separated wire names) through the contract type; returns the type it ends at.</summary>
    private static Type AssertPath(string state, Type type, string path)
    {
        foreach (var segment in path.Split('.'))
        {
            var property = Info(type).Properties.FirstOrDefault(p => p.Name == segment);
            Assert.True(property is not null, $"{state} reads '{segment}' of {type.Name}, which has no such field");
            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        }

        return type;
    }

    private static JsonTypeInfo Info(Type type) =>
        StepJson.Default.GetTypeInfo(type) ?? throw new Xunit.Sdk.XunitException($"{type.Name} is not in the step contract");

    private static HashSet<string> WireNames(Type type) => [.. Info(type).Properties.Select(p => p.Name)];

    private static HashSet<string> RequiredNames(Type type) => [.. Info(type).Properties.Where(p => p.IsRequired).Select(p => p.Name)];

    private static HashSet<string> EnumWireNames(Type type) =>
        [.. Enum.GetValues(type).Cast<object>().Select(v => JsonSerializer.SerializeToElement(v, type, StepJson.Default.Options).GetString()!)];

    /// <summary>A Parameters-style object's field names, with the ".$" of a path field cut off.</summary>
    private static HashSet<string> Keys(JsonObject parameters) =>
        [.. parameters.Select(p => p.Key.EndsWith(".$", StringComparison.Ordinal) ? p.Key[..^2] : p.Key)];

    private static string FunctionOf(JsonObject task)
    {
        var arn = (string)task["Parameters"]!["FunctionName"]!;
        return arn[(arn.LastIndexOf(':') + 1)..];
    }

    /// <summary>Choice rules, the ones nested in And, Or and Not included.</summary>
    private static IEnumerable<JsonObject> Rules(IEnumerable<JsonNode?> rules)
    {
        foreach (var rule in rules.OfType<JsonObject>())
        {
            yield return rule;
            var nested = new[] { rule["And"], rule["Or"] }.OfType<JsonArray>().SelectMany(a => a).Append(rule["Not"]);
            foreach (var inner in Rules(nested))
            {
                yield return inner;
            }
        }
    }

    /// <summary>Every string value in a state, not descending into a Map's own states (they are states of their own).</summary>
    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.Where(p => p.Key != "ItemProcessor").SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => [v.GetValue<string>()],
        _ => [],
    };

    private static IEnumerable<(string Name, JsonObject State, JsonObject? Parent)> Walk(JsonObject machine, JsonObject? parent)
    {
        foreach (var (name, node) in machine["States"]!.AsObject())
        {
            var state = node!.AsObject();
            yield return (name, state, parent);
            if (state["ItemProcessor"] is JsonObject processor)
            {
                foreach (var inner in Walk(processor, state))
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>The definition with its DefinitionSubstitutions filled in from the local values (function ARNs end in the function's name).</summary>
    private static JsonObject Load()
    {
        var text = File.ReadAllText(RepositoryRoot.Of("statemachines", "writeback.asl.json"));
        foreach (var (key, value) in JsonNode.Parse(File.ReadAllText(RepositoryRoot.Of("statemachines", "local-substitutions.json")))!.AsObject())
        {
            if (value?.GetValueKind() == JsonValueKind.String)
            {
                text = text.Replace("${" + key + "}", value.GetValue<string>(), StringComparison.Ordinal);
            }
        }

        return JsonNode.Parse(text)!.AsObject();
    }
}
