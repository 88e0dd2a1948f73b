using System.Text.Json.Nodes;

namespace Writeback.Deploy.Tests;

/// <summary>
/// A Distributed Map runs its items as executions of the state machine itself: the state machine's role must allow
/// starting them and describing, stopping and redriving them under <c>machine/label</c>, and nothing wider.
/// </summary>
public sealed class DistributedMapPermissionTests
{
    private static readonly CfnTemplate Template = CfnTemplate.Load(Repo.PathOf("template.yaml"));

    private static (string Name, JsonObject Properties) StateMachine => Assert.Single(Template.ResourcesOfType("AWS::Serverless::StateMachine"));

    private static IEnumerable<string> DistributedMapLabels()
    {
        var path = Repo.PathOf(((string?)StateMachine.Properties["DefinitionUri"])!.Split('/'));
        return AslDefinition.States(AslDefinition.Load(path))
            .Where(s => (string?)s.State["ItemProcessor"]?["ProcessorConfig"]?["Mode"] == "DISTRIBUTED")
            .Select(s => (string?)s.State["Label"] ?? s.Name);
    }

    private static List<JsonObject> StatesStatements()
    {
        var role = CfnTemplate.ReferencedResource(StateMachine.Properties["Role"]);
        return [.. Template.IamStatements()
            .Where(s => s.Resource == role && CfnTemplate.Many(s.Statement["Action"]).Any(a => ((string?)a)?.StartsWith("states:", StringComparison.Ordinal) == true))
            .Select(s => s.Statement)];
    }

    [Fact]
    public void The_workflow_has_a_Distributed_Map()
    {
        Assert.NotEmpty(DistributedMapLabels());
    }

    [Fact]
    public void The_state_machine_may_start_executions_of_itself_only()
    {
        var machineName = (string?)StateMachine.Properties["Name"]?["Fn::Sub"];
        var start = Assert.Single(StatesStatements(), s => CfnTemplate.Many(s["Action"]).Any(a => (string?)a == "states:StartExecution"));
        Assert.Equal(["states:StartExecution"], CfnTemplate.Many(start["Action"]).Select(a => (string?)a));
        Assert.Equal($"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{machineName}", (string?)start["Resource"]?["Fn::Sub"]);
    }

    [Fact]
    public void The_state_machine_may_describe_stop_and_redrive_only_the_children_of_its_Distributed_Map()
    {
        var machineName = (string?)StateMachine.Properties["Name"]?["Fn::Sub"];
        var label = Assert.Single(DistributedMapLabels());
        var manage = Assert.Single(StatesStatements(), s => CfnTemplate.Many(s["Action"]).Any(a => (string?)a == "states:DescribeExecution"));
        Assert.Equal(["states:DescribeExecution", "states:RedriveExecution", "states:StopExecution"], CfnTemplate.Many(manage["Action"]).Select(a => (string?)a).Order());
        Assert.Equal($"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:execution:{machineName}/{label}:*", (string?)manage["Resource"]?["Fn::Sub"]);
    }
}
