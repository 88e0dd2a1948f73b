using System.Text.Json;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Writeback.Aggregate.Export;
using Writeback.Aggregate.Publishing;

namespace Writeback.Aggregate.Tests;

[Collection(SmallWarehouseGroup.Name)]
public sealed class AggregateRunnerTests(SmallWarehouse warehouse) : IDisposable
{
    private readonly WireMockServer _trigger = WireMockServer.Start();

    [Fact]
    public async Task Running_the_same_date_twice_announces_the_same_batch_with_the_same_event()
    {
        _trigger.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(204));
        var runner = LocalRunner(warehouse.NewOutputFolder());

        var first = await runner.RunAsync("student_dashboard", SmallWarehouse.Anchor);
        var second = await runner.RunAsync("student_dashboard", SmallWarehouse.Anchor);

        Assert.False(first.Reused);
        Assert.True(second.Reused);
        Assert.Equal(first.BatchId, second.BatchId);
        Assert.Equal(first.ManifestUri, second.ManifestUri);
        var data = _trigger.LogEntries.Select(e => JsonDocument.Parse(e.RequestMessage.Body!).RootElement.GetProperty("message").GetProperty("data").GetString()).ToList();
        Assert.Equal(2, data.Count);
        Assert.Equal(data[0], data[1]);
    }

    [Fact]
    public async Task A_run_reports_rows_shards_bytes_and_a_traceparent()
    {
        _trigger.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(204));

        var result = await LocalRunner(warehouse.NewOutputFolder()).RunAsync("class_summary", SmallWarehouse.Anchor);

        Assert.Equal("class_summary", result.Dataset);
        Assert.Equal("2026-11-25", result.Partition);
        Assert.Equal(1, result.Shards);
        Assert.True(result.Rows > 100);
        Assert.True(result.Bytes > 0);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", result.Traceparent);
        Assert.NotNull(result.MessageId);
    }

    [Fact]
    public async Task Without_a_push_URL_the_run_exports_and_announces_nothing()
    {
        var runner = AggregateRunner.CreateLocal(new LocalAggregateOptions { WarehousePath = warehouse.Path, OutputRoot = warehouse.NewOutputFolder() });

        var result = await runner.RunAsync("student_dashboard", SmallWarehouse.Anchor);

        Assert.Null(result.MessageId);
        Assert.True(File.Exists(new Uri(result.ManifestUri).LocalPath));
        Assert.Empty(_trigger.LogEntries);
    }

    [Fact]
    public async Task An_unknown_dataset_is_bad_input_naming_the_known_ones()
    {
        var error = await Assert.ThrowsAsync<AggregateInputException>(() => LocalRunner(warehouse.NewOutputFolder()).RunAsync("teachers", SmallWarehouse.Anchor));

        Assert.Contains("student_dashboard, class_summary", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _trigger.Stop();
        _trigger.Dispose();
    }

    private AggregateRunner LocalRunner(string output) =>
        AggregateRunner.CreateLocal(
            new LocalAggregateOptions { WarehousePath = warehouse.Path, OutputRoot = output, PushUrl = new Uri(_trigger.Url + "/push") },
            new StaticPushTokenSource("token"));
}
