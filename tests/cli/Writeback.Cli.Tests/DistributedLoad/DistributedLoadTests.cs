using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Npgsql;
using Writeback.Cli.Local;
using Writeback.Core.Storage;
using Writeback.StepFunctions;
using Writeback.Testing;
using Xunit.Abstractions;

namespace Writeback.Cli.Tests.DistributedLoad;

/// <summary>
/// A batch beyond the inline Map's ceiling, through statemachines/writeback.asl.json with the real step handlers against
/// real PostgreSQL: its shards load as child executions of the Distributed Map. CI runs 900 shards; the full-size proof
/// (<c>scripts/distributed-load.sh</c>, 20,000 shards) is this test with WRITEBACK_DISTRIBUTED_SHARDS set.
/// </summary>
public sealed class DistributedLoadTests(ITestOutputHelper output)
{
    /// <summary>The shard count; the default is just past the 800 at which the workflow leaves the inline Map.</summary>
    private static int Shards =>
        int.TryParse(Environment.GetEnvironmentVariable("WRITEBACK_DISTRIBUTED_SHARDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 900;

    [Fact]
    public async Task A_batch_past_the_inline_ceiling_loads_every_shard_through_the_Distributed_Map_with_a_small_parent_history()
    {
        var shards = Shards;
        var folder = Directory.CreateTempSubdirectory("writeback-distributed-").FullName;
        var database = await TestPostgres.CreateDatabaseAsync("distributed_load");
        try
        {
            var batchId = string.Create(CultureInfo.InvariantCulture, $"class_summary-2026-11-20-{shards}-shards");
            var manifest = await TinyShardBatch.WriteAsync(Path.Combine(folder, batchId), batchId, shards);
            var (substitutions, _) = SfnSubstitutions.Resolve(ProjectPaths.Root, ProjectPaths.WorkflowDefinition);
            var definition = DefinitionSubstitutions.Apply(await File.ReadAllTextAsync(ProjectPaths.WorkflowDefinition), substitutions);
            var engine = new StepFunctionsEngine(new StepFunctionsEngineOptions
            {
                LambdaInvoker = new SfnLocalInvoker(LocalFunctions.Create(database, SourcePolicy.LocalFolder(folder)), TimeSpan.FromMinutes(15)),
            });
            var machine = engine.CreateStateMachine("writeback", definition);

            var clock = Stopwatch.StartNew();
            var execution = await engine.RunAsync(machine, new JsonObject { ["manifestUri"] = new Uri(manifest).AbsoluteUri }.ToJsonString(), batchId);
            clock.Stop();

            Assert.True(execution.Status == ExecutionStatus.Succeeded, $"{execution.StatusName}: {execution.Error}: {execution.Cause}");
            Assert.Equal("load", JsonNode.Parse(execution.OutputJson!)!["action"]!.GetValue<string>());
            var run = Assert.Single(engine.ListMapRuns(execution.Arn));
            Assert.Equal(new MapRunCounts(0, 0, shards, 0, 0, 0, shards, 0), run.ItemCounts);
            Assert.DoesNotContain(execution.History, e => e.Type == "MapIterationStarted");
            Assert.InRange(execution.History.Count, 1, 60);
            var childEvents = run.Children.Select(c => c.History.Count).ToList();
            Assert.InRange(childEvents.Max(), 7, 100);

            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*), count(DISTINCT class_id) FROM dashboard.class_daily WHERE business_date = @day", connection);
            count.Parameters.AddWithValue("day", TinyShardBatch.Day);
            await using (var reader = await count.ExecuteReaderAsync())
            {
                Assert.True(await reader.ReadAsync());
                Assert.Equal(shards, reader.GetInt64(0));
                Assert.Equal(shards, reader.GetInt64(1));
            }

            var report = string.Create(CultureInfo.InvariantCulture,
                $"distributed load: {shards} shards in {clock.Elapsed.TotalSeconds:F1} s ({shards / clock.Elapsed.TotalSeconds:F0} shards/s); " +
                $"parent history {execution.History.Count} events; {run.Children.Count} child executions, {childEvents.Sum()} child events " +
                $"({childEvents.Min()}–{childEvents.Max()} each); Map Run {(run.StopDate - run.StartDate)?.TotalSeconds:F1} s");
            output.WriteLine(report);
            if (Environment.GetEnvironmentVariable("WRITEBACK_DISTRIBUTED_REPORT") is { Length: > 0 } reportPath)
            {
                await File.WriteAllTextAsync(reportPath, report + Environment.NewLine);
            }
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
            Directory.Delete(folder, recursive: true);
        }
    }
}
