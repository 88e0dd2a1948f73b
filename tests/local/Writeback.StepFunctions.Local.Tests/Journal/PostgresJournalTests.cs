using System.Diagnostics;
using System.Text.Json.Nodes;
using Npgsql;
using Writeback.StepFunctions.Local.Journal;
using Writeback.Testing;
using Xunit.Abstractions;

namespace Writeback.StepFunctions.Local.Tests.Journal;

/// <summary>The journal on a real PostgreSQL: what is written is what a later process reads back, in order.</summary>
public sealed class PostgresJournalTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task An_execution_its_events_checkpoint_close_and_redrive_read_back_as_they_were_written()
    {
        var arn = $"arn:aws:states:us-east-1:000000000000:execution:m:{Guid.NewGuid():N}";
        var definition = """{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}""";
        await using (var journal = await PostgresJournal.OpenAsync(database.ConnectionString, "test", null, CancellationToken.None))
        {
            journal.Created(new JournaledExecution(arn, "e1", "arn:aws:states:us-east-1:000000000000:stateMachine:m", "m", definition, """{"n":1}""", Start, 7));
            journal.Appended(arn, new HistoryEvent(1, 0, Start, "ExecutionStarted", new JsonObject { ["input"] = """{"n":1}""", ["roleArn"] = "r" }));
            journal.Appended(arn, new HistoryEvent(2, 1, Start.AddSeconds(1), "MapStateEntered", new JsonObject { ["name"] = "Each" }));
            journal.Appended(arn, new HistoryEvent(3, 2, Start.AddSeconds(2), "MapStateStarted", null));
            journal.Checkpointed(arn, new ResumePoint("Each", JsonNode.Parse("""{"items":[1,2,3]}"""),
                [JsonNode.Parse("""{"r":1}"""), null, JsonNode.Parse("2")], [true, false, true])
            {
                Variables = new Dictionary<string, JsonNode?> { ["total"] = JsonNode.Parse("""{"sum":6}"""), ["none"] = null },
            });
            journal.Closed(arn, ExecutionStatus.Failed, null, "Item.Failed", "item 2", Start.AddSeconds(3));
            await journal.DurableAsync();
        }

        var closed = await ReadAsync(arn);
        Assert.Equal(ExecutionStatus.Failed, closed.Status);
        Assert.Equal(("Item.Failed", "item 2"), (closed.Error, closed.Cause));
        Assert.Equal(Start.AddSeconds(3), closed.StopDate);
        Assert.Equal((7L, Start, """{"n":1}""", definition), (closed.Sequence, closed.StartDate, closed.InputJson, closed.DefinitionJson));
        Assert.Equal([1L, 2, 3], closed.History.Select(e => e.Id));
        Assert.Equal([0L, 1, 2], closed.History.Select(e => e.PreviousEventId));
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["input"] = """{"n":1}""", ["roleArn"] = "r" }, closed.History[0].Details));
        Assert.Null(closed.History[2].Details);
        var checkpoint = closed.Checkpoint!;
        Assert.Equal("Each", checkpoint.StateName);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"items":[1,2,3]}"""), checkpoint.Input));
        Assert.Equal([true, false, true], checkpoint.IterationSucceeded!);
        Assert.Equal(["""{"r":1}""", null, "2"], checkpoint.IterationResults!.Select(r => r?.ToJsonString()));
        Assert.Equal([("none", (string?)null), ("total", """{"sum":6}""")], checkpoint.Variables!.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => (v.Key, v.Value?.ToJsonString())));

        await using (var journal = await PostgresJournal.OpenAsync(database.ConnectionString, "test", null, CancellationToken.None))
        {
            journal.Redriven(arn, 1, Start.AddSeconds(10));
            await journal.DurableAsync();
        }

        var redriven = await ReadAsync(arn);
        Assert.Equal((ExecutionStatus.Running, 1, Start.AddSeconds(10)), (redriven.Status, redriven.RedriveCount, redriven.RedriveDate));
        Assert.Null(redriven.Error);
        Assert.Null(redriven.StopDate);
    }

    [Fact]
    public async Task A_state_machine_reads_back_as_its_last_save_left_it_and_a_deleted_one_not_at_all()
    {
        var kept = $"arn:aws:states:us-east-1:000000000000:stateMachine:kept-{Guid.NewGuid():N}";
        var gone = $"arn:aws:states:us-east-1:000000000000:stateMachine:gone-{Guid.NewGuid():N}";
        await using (var journal = await PostgresJournal.OpenAsync(database.ConnectionString, "test", null, CancellationToken.None))
        {
            journal.StateMachineSaved(kept, "kept", "{\"v\":1}", "role-1", Start, null);
            journal.StateMachineSaved(gone, "gone", "{}", "role-1", Start, null);
            journal.StateMachineSaved(kept, "kept", "{\"v\":2}", "role-2", Start, Start.AddMinutes(1));
            journal.StateMachineDeleted(gone);
            await journal.DurableAsync();
        }

        await using var reader = await PostgresJournal.OpenAsync(database.ConnectionString, "test", null, CancellationToken.None);
        var machines = await reader.LoadStateMachinesAsync(CancellationToken.None);
        Assert.Contains(new JournaledStateMachine(kept, "kept", "{\"v\":2}", "role-2", Start, Start.AddMinutes(1)), machines);
        Assert.DoesNotContain(machines, m => m.Arn == gone);
    }

    [Fact]
    public async Task Thousands_of_events_land_in_id_order_in_a_few_transactions()
    {
        const int events = 5000;
        var arn = $"arn:aws:states:us-east-1:000000000000:execution:m:{Guid.NewGuid():N}";
        await using var journal = await PostgresJournal.OpenAsync(database.ConnectionString, "test", null, CancellationToken.None);
        journal.Created(new JournaledExecution(arn, "many", "arn:aws:states:us-east-1:000000000000:stateMachine:m", "m", "{}", "{}", Start, 1));
        var clock = Stopwatch.StartNew();
        for (var id = 1; id <= events; id++)
        {
            journal.Appended(arn, new HistoryEvent(id, id - 1, Start, "TaskStateEntered", new JsonObject { ["name"] = "T", ["input"] = """{"batchId":"b","shardIndex":3}""" }));
        }

        var enqueued = clock.Elapsed;
        await journal.DurableAsync();
        clock.Stop();
        output.WriteLine($"{events} events: enqueued in {enqueued.TotalMilliseconds:0} ms ({enqueued.TotalMicroseconds / events:0.0} µs each on the engine's side), durable after {clock.ElapsedMilliseconds} ms ({clock.Elapsed.TotalMicroseconds / events:0.0} µs each), {journal.BatchesWritten} transactions");

        var read = Assert.Single(await journal.LoadAsync(CancellationToken.None), e => e.Arn == arn);
        Assert.Equal(Enumerable.Range(1, events).Select(i => (long)i), read.History.Select(e => e.Id));
        Assert.True(journal.BatchesWritten < events / 10, $"{journal.BatchesWritten} transactions for {events} events");
    }

    [Fact]
    public async Task A_second_host_on_the_same_journal_is_refused_with_the_owner_named_and_welcomed_once_the_owner_is_gone()
    {
        var owner = await PostgresJournal.OpenAsync(database.ConnectionString, "writeback serve, pid 4242", null, CancellationToken.None);
        try
        {
            var refused = await Assert.ThrowsAsync<JournalInUseException>(() => PostgresJournal.OpenAsync(database.ConnectionString, "writeback demo, pid 7", null, CancellationToken.None));
            Assert.Contains("writeback serve, pid 4242", refused.Message, StringComparison.Ordinal);
            Assert.Contains("writeback_sfn", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            await owner.DisposeAsync();
        }

        await using var next = await PostgresJournal.OpenAsync(database.ConnectionString, "writeback demo, pid 7", null, CancellationToken.None);
        var arn = $"arn:aws:states:us-east-1:000000000000:execution:m:{Guid.NewGuid():N}";
        next.Created(new JournaledExecution(arn, "after", "arn:aws:states:us-east-1:000000000000:stateMachine:m", "m", "{}", "{}", Start, 1));
        await next.DurableAsync();
        Assert.Contains(await next.LoadAsync(CancellationToken.None), e => e.Arn == arn);
    }

    private async Task<JournaledExecution> ReadAsync(string arn)
    {
        await using var journal = await PostgresJournal.OpenAsync(database.ConnectionString, "test", null, CancellationToken.None);
        return Assert.Single(await journal.LoadAsync(CancellationToken.None), e => e.Arn == arn);
    }
}

/// <summary>The journal while its PostgreSQL crashes: it waits, says so, and loses nothing it was given.</summary>
public sealed class PostgresJournalRestartTests
{
    [PrivatePostgresFact]
    public async Task A_journal_writing_through_an_immediate_shutdown_of_its_server_loses_nothing_and_says_why_it_waited()
    {
        await using var server = await PrivatePostgres.StartAsync();
        var log = new List<string>();
        var arn = "arn:aws:states:us-east-1:000000000000:execution:m:through-a-crash";
        await using var journal = await PostgresJournal.OpenAsync(server.ConnectionString, "test", line => { lock (log) { log.Add(line); } }, CancellationToken.None);
        journal.Created(new JournaledExecution(arn, "through-a-crash", "arn:aws:states:us-east-1:000000000000:stateMachine:m", "m", "{}", "{}", DateTimeOffset.UtcNow, 1));
        await journal.DurableAsync();

        // Events keep coming while the server is down; the writer must hold them and write them once it is back.
        var writing = Task.Run(async () =>
        {
            for (var id = 1; id <= 200; id++)
            {
                journal.Appended(arn, new HistoryEvent(id, id - 1, DateTimeOffset.UtcNow, "PassStateEntered", new JsonObject { ["name"] = "P" }));
                await Task.Delay(5);
            }
        });
        await Task.Delay(100);
        await server.CrashAndRestartAsync();
        await writing;
        await journal.DurableAsync().WaitAsync(TimeSpan.FromMinutes(1));

        var read = Assert.Single(await journal.LoadAsync(CancellationToken.None));
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), read.History.Select(e => e.Id));
        lock (log)
        {
            Assert.Contains(log, line => line.Contains("cannot write to PostgreSQL", StringComparison.Ordinal));
            Assert.Contains(log, line => line.Contains("reached PostgreSQL again", StringComparison.Ordinal));
        }
    }
}
