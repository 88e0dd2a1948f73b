using System.Text.Json.Nodes;

namespace Writeback.StepFunctions.Tests.DistributedMap;

/// <summary>An engine whose S3 is a temporary folder (bucket = subfolder), and Distributed Map definitions to run on it.</summary>
internal sealed class DistributedKit : IDisposable
{
    public DistributedKit(ILambdaInvoker? invoker = null)
    {
        Root = Directory.CreateTempSubdirectory("sfn-s3-").FullName;
        Engine = new StepFunctionsEngine(new StepFunctionsEngineOptions
        {
            TimeProvider = new VirtualClock(TestKit.Start),
            LambdaInvoker = invoker,
            RandomSeed = 42,
            LocalS3Root = Root,
        });
    }

    public string Root { get; }

    public StepFunctionsEngine Engine { get; }

    public const string Echo = """{"StartAt":"Echo","States":{"Echo":{"Type":"Pass","End":true}}}""";

    /// <summary>
    /// A processor that fails (Item.Failed) for items whose <c>fail</c> is true; with <paramref name="onlyFirstRun"/>, only in
    /// the child's first run: a redrive resumes at the failed state, so the deciding Choice is itself the state that fails
    /// (States.NoChoiceMatched) and passes once the child's RedriveCount is 1.
    /// </summary>
    public static string FailWhenAsked(bool onlyFirstRun = false) => onlyFirstRun
        ? """{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Not":{"And":[{"Variable":"$.fail","IsPresent":true},{"Variable":"$$.Execution.RedriveCount","NumericEquals":0}]},"Next":"Ok"}]},"Ok":{"Type":"Pass","End":true}}}"""
        : """{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.fail","IsPresent":true},{"Variable":"$.fail","BooleanEquals":true}],"Next":"Boom"}],"Default":"Ok"},"Boom":{"Type":"Fail","Error":"Item.Failed","Cause":"asked to"},"Ok":{"Type":"Pass","End":true}}}""";

    /// <summary>One Distributed Map state M (Mode DISTRIBUTED, the given ExecutionType) with the given fields.</summary>
    public static string Map(string fields, string processor = Echo, string executionType = "STANDARD")
    {
        var processorNode = JsonNode.Parse(processor)!.AsObject();
        processorNode["ProcessorConfig"] = new JsonObject { ["Mode"] = "DISTRIBUTED", ["ExecutionType"] = executionType };
        var state = JsonNode.Parse("{" + fields + "}")!.AsObject();
        state["Type"] = "Map";
        state["ItemProcessor"] = processorNode;
        state["End"] = true;
        return new JsonObject { ["StartAt"] = "M", ["States"] = new JsonObject { ["M"] = state } }.ToJsonString();
    }

    public void Put(string bucket, string key, string content)
    {
        var path = Path.Combine(Root, bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public string Read(string bucket, string key) => File.ReadAllText(Path.Combine(Root, bucket, key));

    public async Task<Execution> Run(string definition, string input = "{}")
    {
        var machine = Engine.CreateStateMachine("machine", definition);
        return await Engine.RunAsync(machine, input, "parent");
    }

    public async Task<JsonNode?> Output(string definition, string input = "{}")
    {
        var execution = await Run(definition, input);
        Assert.True(execution.Status == ExecutionStatus.Succeeded, $"{execution.StatusName}: {execution.Error}: {execution.Cause}");
        return JsonNode.Parse(execution.OutputJson!);
    }

    public async Task<Execution> Failed(string definition, string input = "{}")
    {
        var execution = await Run(definition, input);
        Assert.True(execution.Status == ExecutionStatus.Failed, $"expected FAILED, was {execution.StatusName} with output {execution.OutputJson}");
        return execution;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
