using System.Text.Json.Nodes;
using Writeback.Testing;

namespace Writeback.StepFunctions.Local.Tests;

/// <summary>The real AWS CLI as the judge of the local Step Functions endpoint: what it sends, and what it makes of the answers.</summary>
public sealed class AwsCliTests : IAsyncLifetime
{
    private const string Role = "arn:aws:iam::000000000000:role/test";

    /// <summary>Succeeds, or fails when the input says <c>{"fail": true}</c>.</summary>
    private const string PassOrFail = """
        {"StartAt":"Route","States":{
          "Route":{"Type":"Choice","Choices":[{"Variable":"$.fail","IsPresent":true,"Next":"Boom"}],"Default":"Fine"},
          "Boom":{"Type":"Fail","Error":"Test.Failed","Cause":"asked to fail"},
          "Fine":{"Type":"Pass","Result":{"ok":true},"End":true}}}
        """;

    /// <summary>A Map over three items, one at a time, whose item 2 fails until the execution is redriven.</summary>
    private const string MapFailingOnFirstRun = """
        {"StartAt":"Before","States":{
          "Before":{"Type":"Pass","Result":{"items":[1,2,3]},"Next":"Each"},
          "Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,"End":true,
            "ItemProcessor":{"StartAt":"Check","States":{
              "Check":{"Type":"Choice","Choices":[{"And":[{"Variable":"$","NumericEquals":2},{"Variable":"$$.Execution.RedriveCount","NumericEquals":0}],"Next":"Boom"}],"Default":"Done"},
              "Boom":{"Type":"Fail","Error":"Item.Failed"},
              "Done":{"Type":"Pass","Parameters":{"item.$":"$","ranInRedrive.$":"$$.Execution.RedriveCount"},"End":true}}}}}}
        """;

    private StepFunctionsEngine _engine = null!;
    private StepFunctionsEndpoint _endpoint = null!;

    public async Task InitializeAsync()
    {
        _engine = new StepFunctionsEngine();
        _endpoint = await StepFunctionsEndpoint.StartAsync(new LocalStepFunctionsService(_engine), 0, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _endpoint.DisposeAsync();

    [Fact]
    public async Task The_aws_cli_starts_describes_and_lists_executions_by_status_and_by_page()
    {
        var machine = await CreateAsync("listing", PassOrFail);
        foreach (var (name, input) in new[] { ("ok-1", "{}"), ("bad-1", """{"fail":true}"""), ("ok-2", "{}") })
        {
            var started = await Cli("start-execution", "--state-machine-arn", machine, "--name", name, "--input", input);
            Assert.EndsWith($":execution:listing:{name}", (string)started["executionArn"]!);
            await Closed((string)started["executionArn"]!);
        }

        var described = await Cli("describe-execution", "--execution-arn", Arn("listing", "bad-1"));
        Assert.Equal("FAILED", (string?)described["status"]);
        Assert.Equal("Test.Failed", (string?)described["error"]);
        Assert.Equal("""{"fail":true}""", (string?)described["input"]);
        Assert.Equal("REDRIVABLE", (string?)described["redriveStatus"]);
        // CLI v1 prints the wire's epoch seconds as they came (its cli_timestamp_format "none"): numbers, stop not before start.
        Assert.True((double)described["stopDate"]! >= (double)described["startDate"]!);
        Assert.InRange((double)described["startDate"]!, DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds());

        var succeeded = await Cli("list-executions", "--state-machine-arn", machine, "--status-filter", "SUCCEEDED");
        Assert.Equal(["ok-2", "ok-1"], Names(succeeded["executions"]));

        // One item per request: the CLI follows the endpoint's nextToken until the listing ends.
        var paged = await Cli("list-executions", "--state-machine-arn", machine, "--page-size", "1");
        Assert.Equal(["ok-2", "bad-1", "ok-1"], Names(paged["executions"]));

        var first = await Cli("list-executions", "--state-machine-arn", machine, "--max-items", "2");
        Assert.Equal(["ok-2", "bad-1"], Names(first["executions"]));
        var rest = await Cli("list-executions", "--state-machine-arn", machine, "--max-items", "2", "--starting-token", (string)first["NextToken"]!);
        Assert.Equal(["ok-1"], Names(rest["executions"]));
        Assert.Null(rest["NextToken"]);
    }

    [Fact]
    public async Task The_aws_cli_reads_an_execution_history_in_order_in_reverse_by_pages_and_without_data()
    {
        var machine = await CreateAsync("history", PassOrFail);
        var arn = (string)(await Cli("start-execution", "--state-machine-arn", machine, "--name", "h-1", "--input", """{"secret":"s3cr3t"}"""))["executionArn"]!;
        await Closed(arn);
        var expected = _engine.FindExecution(arn)!.History.Select(e => e.Type).ToList();

        var all = await Cli("get-execution-history", "--execution-arn", arn, "--page-size", "2");
        Assert.Equal(expected, Types(all));
        Assert.Equal(Enumerable.Range(1, expected.Count).Select(i => (long)i), all["events"]!.AsArray().Select(e => (long)e!["id"]!));

        var reversed = await Cli("get-execution-history", "--execution-arn", arn, "--reverse-order", "--max-items", "2");
        Assert.Equal(["ExecutionSucceeded", "PassStateExited"], Types(reversed));
        var older = await Cli("get-execution-history", "--execution-arn", arn, "--reverse-order", "--starting-token", (string)reversed["NextToken"]!);
        Assert.Equal(Enumerable.Reverse(expected).Skip(2), Types(older));

        var withData = await Cli("get-execution-history", "--execution-arn", arn);
        var withoutData = await Cli("get-execution-history", "--execution-arn", arn, "--no-include-execution-data");
        Assert.Contains("s3cr3t", withData.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", withoutData.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(expected, Types(withoutData));
    }

    [Fact]
    public async Task The_aws_cli_stops_a_running_execution_which_then_reads_aborted_with_the_error_given()
    {
        var machine = await CreateAsync("stopping", """{"StartAt":"Sleep","States":{"Sleep":{"Type":"Wait","Seconds":3600,"End":true}}}""");
        var arn = (string)(await Cli("start-execution", "--state-machine-arn", machine, "--name", "long-1"))["executionArn"]!;
        Assert.Equal("RUNNING", (string?)(await Cli("describe-execution", "--execution-arn", arn))["status"]);

        var stopped = await Cli("stop-execution", "--execution-arn", arn, "--error", "Operator.Stop", "--cause", "stopped from the CLI");
        Assert.NotNull(stopped["stopDate"]);

        var described = await Cli("describe-execution", "--execution-arn", arn);
        Assert.Equal("ABORTED", (string?)described["status"]);
        Assert.Equal("Operator.Stop", (string?)described["error"]);
        Assert.Equal("stopped from the CLI", (string?)described["cause"]);
        Assert.Equal(["long-1"], Names((await Cli("list-executions", "--state-machine-arn", machine, "--status-filter", "ABORTED"))["executions"]));
    }

    [Fact]
    public async Task The_aws_cli_redrives_a_failed_map_which_reruns_only_its_failed_iterations_and_a_succeeded_execution_is_refused()
    {
        var machine = await CreateAsync("redrive", MapFailingOnFirstRun);
        var arn = (string)(await Cli("start-execution", "--state-machine-arn", machine, "--name", "r-1"))["executionArn"]!;
        await Closed(arn);
        Assert.Equal("FAILED", (string?)(await Cli("describe-execution", "--execution-arn", arn))["status"]);

        var redriven = await Cli("redrive-execution", "--execution-arn", arn);
        Assert.NotNull(redriven["redriveDate"]);
        await Closed(arn);

        var described = await Cli("describe-execution", "--execution-arn", arn);
        Assert.Equal("SUCCEEDED", (string?)described["status"]);
        Assert.Equal(arn, (string?)described["executionArn"]);
        Assert.Equal(1, (int)described["redriveCount"]!);
        Assert.Equal("NOT_REDRIVABLE", (string?)described["redriveStatus"]);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""[{"item":1,"ranInRedrive":0},{"item":2,"ranInRedrive":1},{"item":3,"ranInRedrive":1}]"""),
            JsonNode.Parse((string)described["output"]!)));
        var history = await Cli("get-execution-history", "--execution-arn", arn);
        var events = history["events"]!.AsArray();
        var redrivenAt = events.Select(e => (string)e!["type"]!).ToList().IndexOf("ExecutionRedriven");
        Assert.Equal(1, (int)events[redrivenAt]!["executionRedrivenEventDetails"]!["redriveCount"]!);
        var rerun = events.Skip(redrivenAt).Where(e => (string?)e!["type"] == "MapIterationStarted").Select(e => (int)e!["mapIterationStartedEventDetails"]!["index"]!);
        Assert.Equal([1, 2], rerun);

        var again = await AwsCli.StepFunctionsAsync(_endpoint.Url, "redrive-execution", "--execution-arn", arn);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("An error occurred (ExecutionNotRedrivable) when calling the RedriveExecution operation", again.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_aws_cli_validates_a_definition_ok_and_reports_an_invalid_one_as_fail_with_diagnostics()
    {
        var ok = await Cli("validate-state-machine-definition", "--definition", PassOrFail);
        Assert.Equal("OK", (string?)ok["result"]);
        Assert.Empty(ok["diagnostics"]!.AsArray());

        var bad = await Cli("validate-state-machine-definition", "--definition", """{"StartAt":"Missing","States":{"P":{"Type":"Pass","End":true}}}""");
        Assert.Equal("FAIL", (string?)bad["result"]);
        var diagnostic = Assert.Single(bad["diagnostics"]!.AsArray())!;
        Assert.Equal("ERROR", (string?)diagnostic["severity"]);
        Assert.Contains("Missing", (string?)diagnostic["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_aws_cli_reads_each_diagnostic_with_its_code_and_location_and_none_where_the_service_gives_none()
    {
        var bad = await Cli("validate-state-machine-definition", "--definition", """{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"NOPE"}}}""");

        Assert.Equal("FAIL", (string?)bad["result"]);
        Assert.False((bool)bad["truncated"]!);
        var diagnostics = bad["diagnostics"]!.AsArray();
        Assert.Equal(2, diagnostics.Count);
        Assert.Equal("MISSING_TRANSITION_TARGET", (string?)diagnostics[0]!["code"]);
        Assert.Equal("Missing 'Next' target: NOPE", (string?)diagnostics[0]!["message"]);
        Assert.Equal("/States/A/Next", (string?)diagnostics[0]!["location"]);
        Assert.Equal("MISSING_END_STATE", (string?)diagnostics[1]!["code"]);
        Assert.False(diagnostics[1]!.AsObject().ContainsKey("location"));
    }

    [Fact]
    public async Task The_aws_cli_gets_at_most_max_results_diagnostics_and_truncated_when_there_were_more()
    {
        var threeUnknownFields = """{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"X1":1,"X2":2,"X3":3}}}""";

        var page = await Cli("validate-state-machine-definition", "--definition", threeUnknownFields, "--max-results", "2");

        Assert.Equal(2, page["diagnostics"]!.AsArray().Count);
        Assert.True((bool)page["truncated"]!);
        Assert.False((bool)(await Cli("validate-state-machine-definition", "--definition", threeUnknownFields))["truncated"]!);
    }

    [Fact]
    public async Task Warnings_come_only_with_severity_WARNING_and_leave_the_result_OK()
    {
        var noDollar = """{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"id":"$.id"},"End":true}}}""";

        Assert.Empty((await Cli("validate-state-machine-definition", "--definition", noDollar))["diagnostics"]!.AsArray());
        var warned = await Cli("validate-state-machine-definition", "--definition", noDollar, "--severity", "WARNING");
        Assert.Equal("OK", (string?)warned["result"]);
        var warning = Assert.Single(warned["diagnostics"]!.AsArray())!;
        Assert.Equal(("WARNING", "NO_DOLLAR", "/States/A/Parameters/id"), ((string?)warning["severity"], (string?)warning["code"], (string?)warning["location"]));
    }

    [Fact]
    public async Task CreateStateMachine_refuses_what_validation_fails_quoting_each_diagnostic_as_the_service_does()
    {
        var result = await AwsCli.StepFunctionsAsync(_endpoint.Url, "create-state-machine", "--name", "jsonata-bad", "--role-arn", Role, "--definition",
            """{"QueryLanguage":"JSONata","StartAt":"S","States":{"S":{"Type":"Pass","InputPath":"$.a","Output":"{% 1 + %}","End":true}}}""");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("An error occurred (InvalidDefinition) when calling the CreateStateMachine operation: Invalid State Machine Definition: '"
            + "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage at /States/S/InputPath, "
            + "INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/S/Output'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_service_errors_reach_the_aws_cli_by_name_with_a_failing_exit_code()
    {
        var machine = await CreateAsync("errors", PassOrFail);
        var arn = (string)(await Cli("start-execution", "--state-machine-arn", machine, "--name", "once", "--input", "{}"))["executionArn"]!;
        await Closed(arn);

        var cases = new (string Error, string Operation, string[] Args)[]
        {
            ("ExecutionAlreadyExists", "StartExecution", ["start-execution", "--state-machine-arn", machine, "--name", "once", "--input", "{}"]),
            ("ExecutionDoesNotExist", "DescribeExecution", ["describe-execution", "--execution-arn", Arn("errors", "never")]),
            ("StateMachineDoesNotExist", "StartExecution", ["start-execution", "--state-machine-arn", machine + "-gone"]),
            ("InvalidDefinition", "CreateStateMachine", ["create-state-machine", "--name", "broken", "--role-arn", Role, "--definition", """{"StartAt":"X","States":{}}"""]),
            ("ValidationException", "ListExecutions", ["list-executions", "--state-machine-arn", machine, "--status-filter", "SLEEPING"]),
            ("InvalidArn", "DescribeExecution", ["describe-execution", "--execution-arn", "not-an-arn"]),
            ("UnknownOperationException", "CreateActivity", ["create-activity", "--name", "worker"]),
        };
        foreach (var (error, operation, args) in cases)
        {
            var result = await AwsCli.StepFunctionsAsync(_endpoint.Url, args);

            Assert.True(result.ExitCode != 0, $"{error}: exit 0, {result.Stdout}");
            Assert.Contains($"An error occurred ({error}) when calling the {operation} operation", result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_aws_cli_lists_and_describes_a_Distributed_Map_s_Map_Run_and_its_child_executions()
    {
        var definition = """
            {"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items","Label":"items","ToleratedFailureCount":1,"End":true,
              "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Route","States":{
                "Route":{"Type":"Choice","Choices":[{"Variable":"$.fail","IsPresent":true,"Next":"Boom"}],"Default":"Fine"},
                "Boom":{"Type":"Fail","Error":"Item.Failed"},
                "Fine":{"Type":"Pass","End":true}}}}}}
            """;
        var machine = await CreateAsync("fanout", definition);
        var arn = (string)(await Cli("start-execution", "--state-machine-arn", machine, "--name", "f-1", "--input", """{"items":[{},{"fail":true},{}]}"""))["executionArn"]!;
        await Closed(arn);

        var runs = (await Cli("list-map-runs", "--execution-arn", arn))["mapRuns"]!.AsArray();
        var mapRunArn = (string)Assert.Single(runs)!["mapRunArn"]!;
        Assert.StartsWith("arn:aws:states:us-east-1:000000000000:mapRun:fanout/items:", mapRunArn, StringComparison.Ordinal);
        Assert.Equal("arn:aws:states:us-east-1:000000000000:stateMachine:fanout/items", (string?)runs[0]!["stateMachineArn"]);

        var run = await Cli("describe-map-run", "--map-run-arn", mapRunArn);
        Assert.Equal("SUCCEEDED", (string?)run["status"]);
        Assert.Equal(arn, (string?)run["executionArn"]);
        Assert.Equal(1, (int)run["toleratedFailureCount"]!);
        Assert.Equal(3, (int)run["itemCounts"]!["total"]!);
        Assert.Equal(2, (int)run["itemCounts"]!["succeeded"]!);
        Assert.Equal(1, (int)run["executionCounts"]!["failed"]!);

        var children = (await Cli("list-executions", "--map-run-arn", mapRunArn))["executions"]!.AsArray();
        Assert.Equal(3, children.Count);
        var failed = Assert.Single(children, c => (string?)c!["status"] == "FAILED")!;
        var child = await Cli("describe-execution", "--execution-arn", (string)failed["executionArn"]!);
        Assert.Equal("Item.Failed", (string?)child["error"]);
        Assert.Contains(":execution:fanout/items:", (string)failed["executionArn"]!, StringComparison.Ordinal);
        var childHistory = await Cli("get-execution-history", "--execution-arn", (string)failed["executionArn"]!);
        Assert.Equal("ExecutionStarted", Types(childHistory)[0]);
        Assert.Contains("MapRunStarted", Types(await Cli("get-execution-history", "--execution-arn", arn)));
    }

    private async Task<string> CreateAsync(string name, string definition) =>
        (string)(await Cli("create-state-machine", "--name", name, "--role-arn", Role, "--definition", definition))["stateMachineArn"]!;

    private async Task<JsonNode> Cli(params string[] args)
    {
        var result = await AwsCli.StepFunctionsAsync(_endpoint.Url, args);
        Assert.True(result.ExitCode == 0, $"aws stepfunctions {string.Join(' ', args)} exited {result.ExitCode}: {result.Stderr}");
        return result.Json;
    }

    /// <summary>Waits for the engine to close the execution, so the CLI's next answer is not a race with it.</summary>
    private Task Closed(string executionArn) => _engine.FindExecution(executionArn)!.Completion;

    private static string Arn(string machine, string execution) => $"arn:aws:states:us-east-1:000000000000:execution:{machine}:{execution}";

    private static List<string> Names(JsonNode? executions) => [.. executions!.AsArray().Select(e => (string)e!["name"]!)];

    private static List<string> Types(JsonNode history) => [.. history["events"]!.AsArray().Select(e => (string)e!["type"]!)];
}
