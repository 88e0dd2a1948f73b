namespace Writeback.StepFunctions;

/// <summary>A created state machine: a validated definition under a name.</summary>
public sealed class StateMachine
{
    private readonly string _executionArnPrefix;

    internal StateMachine(string name, string region, string accountId, StateMachineDefinition definition, string definitionJson)
    {
        Name = name;
        DefinitionJson = definitionJson;
        Arn = $"arn:aws:states:{region}:{accountId}:stateMachine:{name}";
        _executionArnPrefix = $"arn:aws:states:{region}:{accountId}:execution:{name}:";
        Definition = definition;
    }

    public string Name { get; }

    public string Arn { get; }

    public StateMachineDefinition Definition { get; }

    /// <summary>The definition as it was given (DescribeStateMachine and DescribeStateMachineForExecution return it).</summary>
    public string DefinitionJson { get; }

    /// <summary>The ARN an execution of this state machine with the given name has (or would have).</summary>
    public string ExecutionArn(string executionName) => _executionArnPrefix + executionName;
}
