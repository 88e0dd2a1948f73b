using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests.DistributedMap;

/// <summary>ResultWriter: the Map Run's results written to the folder standing in for S3, as the service lays them out.</summary>
public sealed class ResultWriterTests : IDisposable
{
    private readonly DistributedKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private const string Writer = "\"ResultWriter\":{\"Resource\":\"arn:aws:states:::s3:putObject\",\"Parameters\":{\"Bucket\":\"out\",\"Prefix\":\"runs\"}}";

    [Fact]
    public async Task The_state_output_is_the_Map_Run_ARN_and_the_manifest_s_bucket_and_key()
    {
        var execution = await _kit.Run(DistributedKit.Map(Writer), "[1,2]");
        var run = _kit.Engine.ListMapRuns(execution.Arn)[0];
        var id = run.Arn[(run.Arn.LastIndexOf(':') + 1)..];
        JsonEqual($$$"""{"MapRunArn":"{{{run.Arn}}}","ResultWriterDetails":{"Bucket":"out","Key":"runs/{{{id}}}/manifest.json"}}""", JsonNode.Parse(execution.OutputJson!));
        Assert.True(run.ResultsWritten);
        Assert.Equal(2, run.ItemCounts.ResultsWritten);
    }

    [Fact]
    public async Task The_manifest_lists_one_file_per_status_and_SUCCEEDED_0_json_describes_each_child()
    {
        var execution = await _kit.Run(DistributedKit.Map(Writer + ",\"ToleratedFailureCount\":1", DistributedKit.FailWhenAsked()), """[{"n":1},{"fail":true}]""");
        var run = _kit.Engine.ListMapRuns(execution.Arn)[0];
        var folder = "runs/" + run.Arn[(run.Arn.LastIndexOf(':') + 1)..] + "/";
        var manifest = JsonNode.Parse(_kit.Read("out", folder + "manifest.json"))!;
        Assert.Equal("out", manifest["DestinationBucket"]!.GetValue<string>());
        Assert.Equal(run.Arn, manifest["MapRunArn"]!.GetValue<string>());
        Assert.Equal(folder + "SUCCEEDED_0.json", manifest["ResultFiles"]!["SUCCEEDED"]![0]!["Key"]!.GetValue<string>());
        Assert.Equal(folder + "FAILED_0.json", manifest["ResultFiles"]!["FAILED"]![0]!["Key"]!.GetValue<string>());
        Assert.Empty(manifest["ResultFiles"]!["PENDING"]!.AsArray());

        var succeeded = Assert.Single(JsonNode.Parse(_kit.Read("out", folder + "SUCCEEDED_0.json"))!.AsArray())!;
        Assert.Equal(run.Children[0].Arn, succeeded["ExecutionArn"]!.GetValue<string>());
        Assert.Equal("""{"n":1}""", succeeded["Input"]!.GetValue<string>());
        Assert.Equal("""{"n":1}""", succeeded["Output"]!.GetValue<string>());
        Assert.Equal("SUCCEEDED", succeeded["Status"]!.GetValue<string>());
        Assert.Equal(run.StateMachineArn, succeeded["StateMachineArn"]!.GetValue<string>());
        Assert.Equal(manifest["ResultFiles"]!["SUCCEEDED"]![0]!["Size"]!.GetValue<long>(), new FileInfo(Path.Combine(_kit.Root, "out", folder + "SUCCEEDED_0.json")).Length);

        var failed = Assert.Single(JsonNode.Parse(_kit.Read("out", folder + "FAILED_0.json"))!.AsArray())!;
        Assert.Equal("Item.Failed", failed["Error"]!.GetValue<string>());
        Assert.Equal("REDRIVABLE", failed["RedriveStatus"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_Map_Run_that_fails_still_writes_its_results_with_the_items_never_started_as_PENDING()
    {
        var execution = await _kit.Failed(DistributedKit.Map(Writer + ",\"MaxConcurrency\":1", DistributedKit.FailWhenAsked()), """[{"fail":true},{"n":2}]""");
        var run = _kit.Engine.ListMapRuns(execution.Arn)[0];
        var folder = "runs/" + run.Arn[(run.Arn.LastIndexOf(':') + 1)..] + "/";
        var pending = Assert.Single(JsonNode.Parse(_kit.Read("out", folder + "PENDING_0.json"))!.AsArray())!;
        Assert.Equal("""{"n":2}""", pending["Input"]!.GetValue<string>());
        Assert.Equal(StatesErrors.ExceedToleratedFailureThreshold, execution.Error);
    }

    [Fact]
    public async Task WriterConfig_JSONL_writes_one_result_a_line()
    {
        var writer = "\"ResultWriter\":{\"Resource\":\"arn:aws:states:::s3:putObject\",\"Parameters\":{\"Bucket\":\"out\",\"Prefix\":\"p\"},\"WriterConfig\":{\"OutputType\":\"JSONL\",\"Transformation\":\"COMPACT\"}}";
        var execution = await _kit.Run(DistributedKit.Map(writer), "[1,2]");
        var key = JsonNode.Parse(execution.OutputJson!)!["ResultWriterDetails"]!["Key"]!.GetValue<string>();
        var file = JsonNode.Parse(_kit.Read("out", key))!["ResultFiles"]!["SUCCEEDED"]![0]!["Key"]!.GetValue<string>();
        Assert.EndsWith("SUCCEEDED_0.jsonl", file, StringComparison.Ordinal);
        Assert.Equal("1\n2\n", _kit.Read("out", file));
    }

    [Fact]
    public async Task WriterConfig_alone_FLATTEN_flattens_the_children_s_array_outputs_into_the_state_output()
    {
        var output = await _kit.Output(DistributedKit.Map("\"ResultWriter\":{\"WriterConfig\":{\"Transformation\":\"FLATTEN\",\"OutputType\":\"JSON\"}}"), "[[1,2],[3]]");
        JsonEqual("[1,2,3]", output);
    }
}
