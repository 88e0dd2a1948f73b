using System.Text.Json.Nodes;

namespace Writeback.Deploy.Tests;

/// <summary>template.yaml, checked the way a reviewer would before the first `sam deploy`.</summary>
public sealed class TemplateTests
{
    private static readonly CfnTemplate Template = CfnTemplate.Load(Repo.PathOf("template.yaml"));

    /// <summary>Actions AWS only grants on Resource "*" (no resource-level permissions), and why we need them.</summary>
    private static readonly HashSet<string> ActionsThatRequireWildcardResource =
    [
        // Lambda attaching a function to a VPC (the AWSLambdaVPCAccessExecutionRole set).
        "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
        // X-Ray tracing.
        "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
        // Step Functions setting up its CloudWatch Logs delivery.
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    ];

    private static (string Name, JsonObject Properties) StateMachine =>
        Assert.Single(Template.ResourcesOfType("AWS::Serverless::StateMachine"));

    private static IEnumerable<(string Name, JsonObject Properties)> Functions => Template.ResourcesOfType("AWS::Serverless::Function");

    private static JsonObject Substitutions => (JsonObject)StateMachine.Properties["DefinitionSubstitutions"]!;

    private static string DefinitionPath => Repo.PathOf(((string?)StateMachine.Properties["DefinitionUri"])!.Split('/'));

    [Fact]
    public void The_state_machine_deploys_the_definition_file_the_local_engine_runs()
    {
        var uri = (string?)StateMachine.Properties["DefinitionUri"];
        Assert.Equal("statemachines/writeback.asl.json", uri);
        Assert.True(File.Exists(DefinitionPath), $"{uri} does not exist");
    }

    [Fact]
    public void Every_substitution_the_definition_uses_is_defined_and_every_defined_one_is_used()
    {
        var used = AslDefinition.Substitutions(DefinitionPath);
        var defined = Substitutions.Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        Assert.True(used.Count > 0, "the definition uses no ${...} substitution; its functions would be hard-coded");
        Assert.Empty(used.Except(defined).Select(n => $"used in the ASL but not defined in template.yaml: {n}"));
        Assert.Empty(defined.Except(used).Select(n => $"defined in template.yaml but not used in the ASL: {n}"));
    }

    [Fact]
    public void Every_function_substitution_is_the_arn_of_a_function_in_this_template()
    {
        var functions = Functions.Select(f => f.Name).ToHashSet();
        foreach (var (name, value) in Substitutions)
        {
            var target = Assert.IsType<JsonArray>(value?["Fn::GetAtt"], exactMatch: false);
            Assert.True(functions.Contains((string)target[0]!) && (string?)target[1] == "Arn", $"{name} is not !GetAtt <Function>.Arn");
        }
    }

    [Fact]
    public void Every_function_runs_a_native_aot_bootstrap_on_the_al2023_custom_runtime_on_arm64()
    {
        Assert.NotEmpty(Functions);
        foreach (var (name, properties) in Functions)
        {
            Assert.True((string?)Template.FunctionProperty(properties, "Runtime") == "provided.al2023", $"{name}: Runtime is not provided.al2023");
            var architectures = Template.FunctionProperty(properties, "Architectures") as JsonArray;
            Assert.True(architectures is [JsonValue a] && (string?)a == "arm64", $"{name}: Architectures is not [arm64]");
            Assert.False(string.IsNullOrEmpty((string?)properties["Handler"]), $"{name} has no Handler (the _HANDLER the bootstrap selects by)");
            Assert.NotNull(properties["MemorySize"]);
            Assert.NotNull(properties["Timeout"]);
        }
    }

    [Fact]
    public void Each_function_times_out_before_the_state_that_invokes_it_does()
    {
        var machine = AslDefinition.Load(DefinitionPath);
        foreach (var (state, definition) in AslDefinition.States(machine))
        {
            if (AslDefinition.InvokedSubstitution(definition) is not { } substitution || definition["TimeoutSeconds"] is not JsonValue stateTimeout)
            {
                continue;
            }

            var function = CfnTemplate.ReferencedResource(Substitutions[substitution]);
            var properties = (JsonObject)Template.Resource(function!)["Properties"]!;
            var lambdaTimeout = int.Parse((string)properties["Timeout"]!);
            Assert.True(lambdaTimeout < (int)stateTimeout,
                $"{function} times out after {lambdaTimeout}s but state {state} gives it {stateTimeout}s: the state would time out first");
        }
    }

    [Fact]
    public void No_IAM_statement_allows_a_wildcard_action()
    {
        var statements = Template.IamStatements().ToList();
        Assert.NotEmpty(statements);
        foreach (var (resource, statement) in statements)
        {
            Assert.False(statement.ContainsKey("NotAction"), $"{resource}: NotAction grants everything else");
            var actions = CfnTemplate.Many(statement["Action"]).Select(a => a?.ToString() ?? "").ToList();
            Assert.NotEmpty(actions);
            Assert.All(actions, action => Assert.False(action.Contains('*', StringComparison.Ordinal), $"{resource}: wildcard action {action}"));
        }
    }

    [Fact]
    public void Wildcard_resources_appear_only_with_actions_that_AWS_grants_on_no_narrower_resource()
    {
        foreach (var (resource, statement) in Template.IamStatements())
        {
            Assert.False(statement.ContainsKey("NotResource"), $"{resource}: NotResource");
            var resources = CfnTemplate.Many(statement["Resource"]).Select(r => r is JsonValue ? (string?)r : null);
            if (!resources.Any(r => r is not null && r.Contains('*', StringComparison.Ordinal)))
            {
                continue;
            }

            foreach (var action in CfnTemplate.Many(statement["Action"]).Select(a => (string)a!))
            {
                Assert.True(ActionsThatRequireWildcardResource.Contains(action), $"{resource}: {action} on a wildcard resource");
            }
        }
    }

    [Fact]
    public void The_state_machine_may_invoke_exactly_its_own_functions()
    {
        var role = CfnTemplate.ReferencedResource(StateMachine.Properties["Role"]);
        Assert.NotNull(role);
        Assert.Null(StateMachine.Properties["Policies"]);
        var invokable = Template.IamStatements()
            .Where(s => s.Resource == role && CfnTemplate.Many(s.Statement["Action"]).Any(a => (string?)a == "lambda:InvokeFunction"))
            .SelectMany(s => CfnTemplate.Many(s.Statement["Resource"]))
            .Select(r => (CfnTemplate.ReferencedResource(r) ?? $"not a !GetAtt: {r}", r?["Fn::GetAtt"]?[1]?.ToString()))
            .ToList();
        Assert.All(invokable, r => Assert.Equal("Arn", r.Item2));
        var expected = Substitutions.Select(kv => CfnTemplate.ReferencedResource(kv.Value)).Order();
        Assert.Equal(expected, invokable.Select(r => r.Item1).Order());
    }

    [Fact]
    public void The_trigger_may_start_only_this_state_machine_and_describe_only_its_executions()
    {
        var trigger = Assert.Single(Functions, f => f.Properties["FunctionUrlConfig"] is not null);
        var role = CfnTemplate.ReferencedResource(trigger.Properties["Role"]);
        var states = Template.IamStatements().Where(s => s.Resource == role
            && CfnTemplate.Many(s.Statement["Action"]).Any(a => ((string?)a)?.StartsWith("states:", StringComparison.Ordinal) == true)).ToList();
        Assert.Equal(2, states.Count);
        var start = Assert.Single(states, s => CfnTemplate.Many(s.Statement["Action"]).Any(a => (string?)a == "states:StartExecution")).Statement;
        Assert.Equal(["states:StartExecution"], CfnTemplate.Many(start["Action"]).Select(a => (string?)a));
        Assert.Equal(StateMachine.Name, CfnTemplate.ReferencedResource(start["Resource"]));

        // Executions are named per batch attempt, so the resource is the state machine's execution ARNs, no wider.
        var describe = Assert.Single(states, s => s.Statement != start).Statement;
        Assert.Equal(["states:DescribeExecution"], CfnTemplate.Many(describe["Action"]).Select(a => (string?)a));
        var machineName = (string?)StateMachine.Properties["Name"]?["Fn::Sub"];
        Assert.Equal($"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{machineName}:*", (string?)describe["Resource"]?["Fn::Sub"]);
    }

    [Fact]
    public void The_trigger_url_is_public_only_because_the_trigger_verifies_the_push_token_itself()
    {
        var trigger = Assert.Single(Functions, f => f.Properties["FunctionUrlConfig"] is not null);
        Assert.Equal("NONE", (string?)trigger.Properties["FunctionUrlConfig"]!["AuthType"]);
        var variables = (JsonObject)trigger.Properties["Environment"]!["Variables"]!;
        foreach (var name in new[] { "WRITEBACK_STATE_MACHINE_ARN", "WRITEBACK_TRIGGER_AUDIENCE", "WRITEBACK_PUSH_SERVICE_ACCOUNT" })
        {
            Assert.True(variables.ContainsKey(name), $"the trigger has no {name}, so it could not verify who pushed");
        }

        Assert.Null(trigger.Properties["VpcConfig"]);

        // A NONE-auth URL also needs lambda:InvokeFunction, granted only for calls that come through the URL.
        Assert.Contains(Template.ResourcesOfType("AWS::Lambda::Permission"), p =>
            CfnTemplate.ReferencedResource(p.Properties["FunctionName"]) == trigger.Name
            && (string?)p.Properties["Action"] == "lambda:InvokeFunction"
            && (string?)p.Properties["InvokedViaFunctionUrl"] == "true");
    }

    [Fact]
    public void Writers_read_database_credentials_from_one_secret_and_run_inside_the_vpc()
    {
        foreach (var (name, properties) in Functions.Where(f => f.Properties["ReservedConcurrentExecutions"] is not null))
        {
            var variables = (JsonObject)properties["Environment"]!["Variables"]!;
            Assert.Equal("DbSecretArn", (string?)variables["WRITEBACK_DB_SECRET_ARN"]?["Ref"]);
            Assert.False(variables.ContainsKey("WRITEBACK_PG"), $"{name} would carry a password in its environment");
            Assert.Equal("SubnetIds", (string?)properties["VpcConfig"]?["SubnetIds"]?["Ref"]);
            Assert.Equal("SecurityGroupIds", (string?)properties["VpcConfig"]?["SecurityGroupIds"]?["Ref"]);
        }

        var reads = Template.IamStatements().Where(s => CfnTemplate.Many(s.Statement["Action"]).Any(a => (string?)a == "secretsmanager:GetSecretValue")).ToList();
        Assert.All(reads, s => Assert.Equal("DbSecretArn", (string?)s.Statement["Resource"]?["Ref"]));
    }

    [Fact]
    public void Every_function_and_the_state_machine_log_to_their_own_group_with_retention()
    {
        var groups = Template.ResourcesOfType("AWS::Logs::LogGroup")
            .ToDictionary(g => g.Properties["LogGroupName"]?["Fn::Sub"]?.ToString() ?? "", g => g.Properties);
        Assert.All(groups, g => Assert.Equal("LogRetentionDays", (string?)g.Value["RetentionInDays"]?["Ref"]));
        foreach (var (name, properties) in Functions)
        {
            var functionName = properties["FunctionName"]?["Fn::Sub"]?.ToString();
            Assert.True(functionName is not null && groups.ContainsKey($"/aws/lambda/{functionName}"), $"{name} has no log group with retention");
        }

        var destination = StateMachine.Properties["Logging"]?["Destinations"]?[0]?["CloudWatchLogsLogGroup"]?["LogGroupArn"];
        Assert.NotNull(CfnTemplate.ReferencedResource(destination));
    }

    [Theory]
    [InlineData("ExecutionsFailed")]
    [InlineData("ExecutionsTimedOut")]
    [InlineData("ExecutionsAborted")]
    public void An_alarm_tells_the_alert_topic_about_executions(string metric)
    {
        var topics = Template.ResourcesOfType("AWS::SNS::Topic").Select(t => t.Name).ToHashSet();
        var alarm = Assert.Single(Template.ResourcesOfType("AWS::CloudWatch::Alarm"),
            a => (string?)a.Properties["Namespace"] == "AWS/States" && (string?)a.Properties["MetricName"] == metric).Properties;
        var dimension = Assert.Single((JsonArray)alarm["Dimensions"]!)!;
        Assert.Equal("StateMachineArn", (string?)dimension["Name"]);
        Assert.Equal(StateMachine.Name, CfnTemplate.ReferencedResource(dimension["Value"]));
        Assert.Contains(CfnTemplate.Many(alarm["AlarmActions"]), a => topics.Contains(CfnTemplate.ReferencedResource(a) ?? ""));
    }

    [Theory]
    [InlineData("Url4xxCount")]
    [InlineData("Url5xxCount")]
    public void An_alarm_tells_the_alert_topic_when_the_trigger_url_answers_with_an_error_status(string metric)
    {
        // The trigger turns a refused or failed push into a 4xx/5xx *response*: the invocation succeeds, so the
        // Errors metric stays at zero, and only the Function URL's metrics see it.
        var trigger = Assert.Single(Functions, f => f.Properties["FunctionUrlConfig"] is not null);
        var topics = Template.ResourcesOfType("AWS::SNS::Topic").Select(t => t.Name).ToHashSet();
        var alarm = Assert.Single(Template.ResourcesOfType("AWS::CloudWatch::Alarm"),
            a => (string?)a.Properties["MetricName"] == metric).Properties;
        Assert.Equal("AWS/Lambda", (string?)alarm["Namespace"]);
        var dimension = Assert.Single((JsonArray)alarm["Dimensions"]!)!;
        Assert.Equal("FunctionName", (string?)dimension["Name"]);
        Assert.Equal(trigger.Name, CfnTemplate.ReferencedResource(dimension["Value"]));
        Assert.Equal("Sum", (string?)alarm["Statistic"]);
        // Sparse metric: a period without bad answers has no data point, which must not count as breaching.
        Assert.Equal("notBreaching", (string?)alarm["TreatMissingData"]);
        Assert.Contains(CfnTemplate.Many(alarm["AlarmActions"]), a => topics.Contains(CfnTemplate.ReferencedResource(a) ?? ""));
    }

    [Fact]
    public void Every_named_resource_carries_the_stage_so_dev_and_prod_stacks_never_collide()
    {
        var stage = (JsonObject)Template.Parameters["Stage"]!;
        Assert.Equal(new[] { "dev", "prod" }, ((JsonArray)stage["AllowedValues"]!).Select(v => (string)v!));
        string[] nameProperties = ["FunctionName", "Name", "LogGroupName", "TopicName", "AlarmName"];
        foreach (var (name, resource) in Template.Resources)
        {
            var properties = resource!["Properties"] as JsonObject ?? [];
            // A name given as !Ref/!GetAtt points at another resource (whose own name is checked); only names set here count.
            foreach (var property in nameProperties.Where(p => properties.ContainsKey(p) && CfnTemplate.ReferencedResource(properties[p]) is null))
            {
                var sub = properties[property]?["Fn::Sub"]?.ToString();
                Assert.True(sub?.Contains("${Stage}", StringComparison.Ordinal) == true, $"{name}.{property} does not include ${{Stage}}");
            }
        }
    }

    [Theory]
    [InlineData("TriggerUrl")]
    [InlineData("PushAudience")]
    [InlineData("StateMachineArn")]
    [InlineData("AlertTopicArn")]
    public void The_stack_outputs_what_terraform_and_operators_need(string output)
    {
        var value = Template.Root["Outputs"]?[output];
        Assert.NotNull(value);
        Assert.False(string.IsNullOrWhiteSpace((string?)value["Description"]), $"output {output} has no description");
    }

    [Fact]
    public void Every_parameter_is_described()
    {
        foreach (var (name, parameter) in Template.Parameters)
        {
            Assert.False(string.IsNullOrWhiteSpace((string?)parameter?["Description"]), $"parameter {name} has no description");
        }
    }
}
