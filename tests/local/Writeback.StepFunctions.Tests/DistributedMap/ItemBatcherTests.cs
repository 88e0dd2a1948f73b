using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests.DistributedMap;

/// <summary>ItemBatcher: items grouped into child inputs by count and by bytes, with BatchInput beside them.</summary>
public sealed class ItemBatcherTests : IDisposable
{
    private readonly DistributedKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task MaxItemsPerBatch_groups_consecutive_items_and_BatchInput_goes_with_every_batch()
    {
        var output = await _kit.Output(DistributedKit.Map("\"ItemsPath\":\"$.items\",\"ItemBatcher\":{\"MaxItemsPerBatch\":2,\"BatchInput\":{\"run.$\":\"$.run\"}}"),
            """{"items":[1,2,3,4,5],"run":"r1"}""");
        JsonEqual("""
            [{"BatchInput":{"run":"r1"},"Items":[1,2]},{"BatchInput":{"run":"r1"},"Items":[3,4]},{"BatchInput":{"run":"r1"},"Items":[5]}]
            """, output);
    }

    [Fact]
    public async Task MaxItemsPerBatchPath_reads_the_batch_size_from_the_input()
    {
        var output = await _kit.Output(DistributedKit.Map("\"ItemsPath\":\"$.items\",\"ItemBatcher\":{\"MaxItemsPerBatchPath\":\"$.size\"}"), """{"items":[1,2,3],"size":3}""");
        JsonEqual("""[{"Items":[1,2,3]}]""", output);
    }

    [Fact]
    public async Task MaxInputBytesPerBatch_keeps_each_child_input_within_that_many_bytes()
    {
        // {"Items":["aaaaaaaaaa"]} is 25 bytes; each further item adds 13.
        var items = "[" + string.Join(',', Enumerable.Repeat("\"aaaaaaaaaa\"", 5)) + "]";
        var output = await _kit.Output(DistributedKit.Map("\"ItemBatcher\":{\"MaxInputBytesPerBatch\":40}"), items);
        var batches = output!.AsArray();
        Assert.Equal([2, 2, 1], batches.Select(b => b!["Items"]!.AsArray().Count));
        Assert.All(batches, b => Assert.InRange(b!.ToJsonString().Length, 1, 40));
    }

    [Fact]
    public async Task An_item_larger_than_MaxInputBytesPerBatch_fails_with_States_DataLimitExceeded()
    {
        var execution = await _kit.Failed(DistributedKit.Map("\"ItemBatcher\":{\"MaxInputBytesPerBatchPath\":\"$.bytes\"},\"ItemsPath\":\"$.items\""),
            """{"items":["this item alone is longer than the limit"],"bytes":20}""");
        Assert.Equal(StatesErrors.DataLimitExceeded, execution.Error);
    }

    [Fact]
    public async Task ItemSelector_shapes_the_items_before_they_are_batched()
    {
        var output = await _kit.Output(DistributedKit.Map("\"ItemSelector\":{\"i.$\":\"$$.Map.Item.Index\"},\"ItemBatcher\":{\"MaxItemsPerBatch\":2}"), """["a","b","c"]""");
        JsonEqual("""[{"Items":[{"i":0},{"i":1}]},{"Items":[{"i":2}]}]""", output);
    }

    [Fact]
    public async Task A_failed_batch_counts_all_its_items_against_the_tolerance()
    {
        var processor = """{"StartAt":"Boom","States":{"Boom":{"Type":"Fail","Error":"E"}}}""";
        var execution = await _kit.Failed(DistributedKit.Map("\"ItemBatcher\":{\"MaxItemsPerBatch\":3},\"ToleratedFailureCount\":2", processor), "[1,2,3]");
        Assert.Equal(StatesErrors.ExceedToleratedFailureThreshold, execution.Error);
        Assert.Equal(3, _kit.Engine.ListMapRuns(execution.Arn)[0].ItemCounts.Failed);
    }
}
