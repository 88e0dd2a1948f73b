using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Tests.Support;
using Writeback.Functions;
using Writeback.Writers.Host;
using Writeback.Steps;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Deploy.Tests;

/// <summary>
/// template.yaml's connection budget assumes one connection per writer instance. These run a real batch through the
/// writer host's handlers (step, run-history recorder and SLO check, as one Lambda instance builds them) and count the
/// instance's connections on the server.
/// </summary>
public sealed class WriterConnectionTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly TestBatches _batches = new();
    private readonly string _targets = Directory.CreateTempSubdirectory("writeback-targets-").FullName;
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _batches.Dispose();
        _http.Dispose();
        Directory.Delete(_targets, recursive: true);
    }

    private async Task<long> ConnectionsOfAsync(string applicationName)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = applicationName });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_writer_instance_holds_one_connection_for_its_step_its_run_history_and_the_slo_check_together()
    {
        var target = ScoresTarget("writer_pool", LoadMode.ReplacePartition);
        File.WriteAllText(Path.Combine(_targets, target.Dataset + ".json"), JsonSerializer.Serialize(target, ContractJson.Default.Target));
        var instance = $"wb-instance-{Guid.NewGuid():N}"[..24];
        // As a local WRITEBACK_PG could be: no pool limit of its own. The host must impose one.
        var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString) { ApplicationName = instance, MaxPoolSize = 50 }.ConnectionString;
        var handlers = WriterHandlers.Create(new StepOptions(connectionString, _targets, TestBatches.TestSources), _http, _ => null).ToDictionary(h => h.Name);
        var manifest = await _batches.WriteScoresAsync("writer-pool-1", target.Dataset, [Scores(Day1, 10), Scores(Day1, 5, firstId: 11)], "2026-11-01");
        var batch = new JsonObject { ["batchId"] = "writer-pool-1", ["manifestUri"] = manifest, ["dataset"] = target.Dataset };
        var held = new List<(string Step, long Connections)>();

        async Task<JsonNode> InvokeAsync(string handler, JsonObject payload)
        {
            var result = await handlers[handler].InvokeAsync(payload.ToJsonString(), InvocationContext.Local(TimeSpan.FromMinutes(1)), default);
            held.Add((handler, await ConnectionsOfAsync(instance)));
            return JsonNode.Parse(result)!;
        }

        var prepared = await InvokeAsync("writeback-prepare", (JsonObject)batch.DeepClone());
        foreach (var index in prepared["shardIndices"]!.AsArray())
        {
            var shard = (JsonObject)batch.DeepClone();
            shard["shardIndex"] = index!.GetValue<int>();
            await InvokeAsync("writeback-load-shard", shard);
        }

        await InvokeAsync("writeback-verify", (JsonObject)batch.DeepClone());
        var published = await InvokeAsync("writeback-publish", (JsonObject)batch.DeepClone());
        await InvokeAsync("writeback-cleanup", (JsonObject)batch.DeepClone());
        await InvokeAsync("writeback-slo-check", []);

        Assert.Equal("applied", (string?)published["status"]);
        // Run history was written through the same instance: otherwise one connection would prove nothing about it.
        Assert.True(await ScalarAsync<long>(database.ConnectionString, "SELECT count(*) FROM writeback_runs.steps WHERE batch_id = 'writer-pool-1'") >= 6,
            "the recorder wrote no step rows; the connection count does not cover run history");
        Assert.All(held, h => Assert.True(h.Connections == 1, $"after {h.Step} the instance held {h.Connections} connections, not 1"));
    }

    [Fact]
    public void The_host_limits_any_connection_string_to_one_pooled_connection()
    {
        var builder = new NpgsqlConnectionStringBuilder("Host=db;Maximum Pool Size=100;Minimum Pool Size=10");
        WriterHandlers.OneConnection(builder);
        Assert.Equal((1, 1), (builder.MaxPoolSize, builder.MinPoolSize));
    }
}
