using System.Text.Json.Nodes;
using Npgsql;

namespace Writeback.StepFunctions.Local.Journal;

/// <summary>A state machine as the journal keeps it.</summary>
public sealed record JournaledStateMachine(string Arn, string Name, string DefinitionJson, string RoleArn, DateTimeOffset Created, DateTimeOffset? Updated);

public sealed partial class PostgresJournal
{
    public async Task<IReadOnlyList<JournaledExecution>> LoadAsync(CancellationToken cancellationToken)
    {
        var executions = new List<JournaledExecution>();
        await WithRetryAsync(async connection =>
        {
            executions.Clear();
            var history = await LoadHistoryAsync(connection, cancellationToken);
            await using var command = new NpgsqlCommand(
                """
                SELECT e.arn, e.name, e.state_machine_arn, e.state_machine_name, d.definition, e.input, e.start_date, e.sequence,
                       e.status, e.output, e.error, e.cause, e.stop_date, e.redrive_count, e.redrive_date, e.checkpoint::text
                FROM writeback_sfn.executions e JOIN writeback_sfn.definitions d ON d.sha256 = e.definition_sha256
                ORDER BY e.sequence
                """,
                connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var arn = reader.GetString(0);
                var status = reader.GetString(8);
                executions.Add(new JournaledExecution(
                    arn, reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                    reader.GetFieldValue<DateTimeOffset>(6), reader.GetInt64(7))
                {
                    Status = ExecutionStatusNames.Parse(status) ?? throw new InvalidDataException($"writeback_sfn.executions has status '{status}' for {arn}."),
                    OutputJson = Text(reader, 9),
                    Error = Text(reader, 10),
                    Cause = Text(reader, 11),
                    StopDate = reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12),
                    RedriveCount = reader.GetInt32(13),
                    RedriveDate = reader.IsDBNull(14) ? null : reader.GetFieldValue<DateTimeOffset>(14),
                    Checkpoint = Text(reader, 15) is { } checkpoint ? CheckpointJson.Read(checkpoint) : null,
                    History = history.TryGetValue(arn, out var events) ? events : [],
                });
            }
        }, cancellationToken);
        return executions;
    }

    public async Task<IReadOnlyList<JournaledStateMachine>> LoadStateMachinesAsync(CancellationToken cancellationToken)
    {
        var machines = new List<JournaledStateMachine>();
        await WithRetryAsync(async connection =>
        {
            machines.Clear();
            await using var command = new NpgsqlCommand("SELECT arn, name, definition, role_arn, created, updated FROM writeback_sfn.state_machines ORDER BY created, arn", connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                machines.Add(new JournaledStateMachine(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.GetFieldValue<DateTimeOffset>(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5)));
            }
        }, cancellationToken);
        return machines;
    }

    private static async Task<Dictionary<string, List<HistoryEvent>>> LoadHistoryAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var history = new Dictionary<string, List<HistoryEvent>>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand(
            "SELECT execution_arn, id, previous_event_id, timestamp, type, details::text FROM writeback_sfn.events ORDER BY execution_arn, id", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var arn = reader.GetString(0);
            if (!history.TryGetValue(arn, out var events))
            {
                history[arn] = events = [];
            }

            events.Add(new HistoryEvent(reader.GetInt64(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4),
                Text(reader, 5) is { } details ? JsonNode.Parse(details)!.AsObject() : null));
        }

        return history;
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
