using System.Diagnostics;
using Writeback.Aggregate.Export;
using Writeback.Aggregate.Warehouse;
using Xunit.Abstractions;

namespace Writeback.Aggregate.Tests.Export;

/// <summary>
/// Prints how long generation and export take at a size given in WRITEBACK_MEASURE_SIZE (e.g. medium); does
/// nothing otherwise, so the suite stays fast. It measures and reports; it asserts only on row counts.
/// </summary>
public sealed class MeasuredExportTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_warehouse_of_the_requested_size_generates_and_exports()
    {
        if (!WarehouseSizes.TryParse(Environment.GetEnvironmentVariable("WRITEBACK_MEASURE_SIZE"), out var size))
        {
            return;
        }

        var folder = Directory.CreateTempSubdirectory("writeback-measure-").FullName;
        try
        {
            var day = new DateOnly(2026, 11, 25);
            var clock = Stopwatch.StartNew();
            var info = SampleWarehouse.Generate(Path.Combine(folder, "warehouse.duckdb"), SampleWarehouse.DefaultSeed, size, day);
            output.WriteLine($"generate {size}: {clock.Elapsed.TotalSeconds:F1} s; {info.Students} students, {info.StudySessions} sessions, {info.TestResults} tests, {new FileInfo(info.Path).Length / 1e6:F0} MB");

            foreach (var dataset in Datasets.All)
            {
                clock.Restart();
                var exporter = new LocalBatchExporter(new LocalExportOptions { WarehousePath = info.Path, OutputRoot = Path.Combine(folder, "out") });
                var batch = await exporter.ExportAsync(dataset, day, BatchIdentity.NewTraceparent(), CancellationToken.None);
                output.WriteLine($"export {dataset.Name}: {clock.Elapsed.TotalSeconds:F1} s (query {batch.QueryDuration.TotalSeconds:F1} s, write {batch.WriteDuration.TotalSeconds:F1} s); {batch.Rows} rows, {batch.Manifest.Shards.Count} shards, {batch.Bytes / 1e6:F1} MB");
                Assert.True(batch.Rows > 0);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
