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
    public async Task Running_the_same_date_twice_announces_two_batches_with_equal_content()
    {
        _trigger.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(204));
        var clock = new SteppingTime(new DateTimeOffset(2026, 11, 25, 22, 0, 0, TimeSpan.Zero));
        var runner = LocalRunner(warehouse.NewOutputFolder(), clock);

        var first = await runner.RunAsync("student_dashboard", SmallWarehouse.Anchor);
        clock.Advance(TimeSpan.FromMinutes(1));
        var second = await runner.RunAsync("student_dashboard", SmallWarehouse.Anchor);

        Assert.False(second.Reused);
        Assert.NotEqual(first.BatchId, second.BatchId);
        Assert.NotEqual(first.ManifestUri, second.ManifestUri);
        Assert.Equal(first.Rows, second.Rows);
        var events = _trigger.LogEntries
            .Select(e => JsonDocument.Parse(Convert.FromBase64String(JsonDocument.Parse(e.RequestMessage.Body!).RootElement.GetProperty("message").GetProperty("data").GetString()!)).RootElement)
            .ToList();
        Assert.Equal([first.BatchId, second.BatchId], events.Select(e => e.GetProperty("batchId").GetString()));
        Assert.True(events[1].GetProperty("sequence").GetInt64() > events[0].GetProperty("sequence").GetInt64());
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

    private AggregateRunner LocalRunner(string output, TimeProvider? time = null) =>
        AggregateRunner.CreateLocal(
            new LocalAggregateOptions { WarehousePath = warehouse.Path, OutputRoot = output, PushUrl = new Uri(_trigger.Url + "/push") },
            new StaticPushTokenSource("token"),
            timeProvider: time);

    private sealed class SteppingTime(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
