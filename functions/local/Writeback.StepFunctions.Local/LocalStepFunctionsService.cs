using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Writeback.StepFunctions.Local.Journal;
using Writeback.StepFunctions.Local.Wire;

namespace Writeback.StepFunctions.Local;

/// <summary>
/// The Step Functions API actions this project uses, answered by the project's engine with the service's rules and
/// error names. Only Standard state machines, only the ASL the engine runs; every other action is refused by name.
/// </summary>
public sealed partial class LocalStepFunctionsService
{
    /// <summary>What the trigger, the AWS CLI and a person debugging a batch call; nothing else is served.</summary>
    public static IReadOnlyList<string> Actions { get; } =
    [
        "CreateStateMachine", "UpdateStateMachine", "DescribeStateMachine", "ListStateMachines", "DeleteStateMachine",
        "ValidateStateMachineDefinition", "StartExecution", "DescribeExecution", "DescribeStateMachineForExecution",
        "ListExecutions", "GetExecutionHistory", "StopExecution", "RedriveExecution", "DescribeMapRun", "ListMapRuns",
    ];

    private readonly Dictionary<string, Func<byte[], CancellationToken, Task<byte[]>>> _actions;
    private readonly PostgresJournal? _journal;

    /// <param name="journal">Where state machines and executions outlive the process; it must be the engine's journal
    /// too. Null keeps everything in memory.</param>
    public LocalStepFunctionsService(StepFunctionsEngine engine, PostgresJournal? journal = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        if (journal is not null && !ReferenceEquals(engine.Options.Journal, journal))
        {
            throw new ArgumentException("The engine must journal its executions where the service journals its state machines.", nameof(journal));
        }

        Engine = engine;
        _journal = journal;
        _actions = new(StringComparer.Ordinal)
        {
            ["CreateStateMachine"] = Action(SfnJson.Default.CreateStateMachineRequest, SfnJson.Default.CreateStateMachineResponse, CreateStateMachineAsync),
            ["UpdateStateMachine"] = Action(SfnJson.Default.UpdateStateMachineRequest, SfnJson.Default.UpdateStateMachineResponse, UpdateStateMachineAsync),
            ["DescribeStateMachine"] = Action(SfnJson.Default.StateMachineArnRequest, SfnJson.Default.DescribeStateMachineResponse, DescribeStateMachine),
            ["ListStateMachines"] = Action(SfnJson.Default.ListStateMachinesRequest, SfnJson.Default.ListStateMachinesResponse, ListStateMachines),
            ["DeleteStateMachine"] = Action(SfnJson.Default.StateMachineArnRequest, SfnJson.Default.EmptyResponse, DeleteStateMachineAsync),
            ["ValidateStateMachineDefinition"] = Action(SfnJson.Default.ValidateStateMachineDefinitionRequest, SfnJson.Default.ValidateStateMachineDefinitionResponse, ValidateStateMachineDefinition),
            ["StartExecution"] = Action(SfnJson.Default.StartExecutionRequest, SfnJson.Default.StartExecutionResponse, StartExecutionAsync),
            ["DescribeExecution"] = Action(SfnJson.Default.DescribeExecutionRequest, SfnJson.Default.DescribeExecutionResponse, DescribeExecution),
            ["DescribeStateMachineForExecution"] = Action(SfnJson.Default.ExecutionArnRequest, SfnJson.Default.DescribeStateMachineForExecutionResponse, DescribeStateMachineForExecution),
            ["ListExecutions"] = Action(SfnJson.Default.ListExecutionsRequest, SfnJson.Default.ListExecutionsResponse, ListExecutions),
            ["GetExecutionHistory"] = Action(SfnJson.Default.GetExecutionHistoryRequest, SfnJson.Default.GetExecutionHistoryResponse, GetExecutionHistory),
            ["StopExecution"] = Action(SfnJson.Default.StopExecutionRequest, SfnJson.Default.StopExecutionResponse, StopExecutionAsync),
            ["RedriveExecution"] = Action(SfnJson.Default.RedriveExecutionRequest, SfnJson.Default.RedriveExecutionResponse, RedriveExecutionAsync),
            ["DescribeMapRun"] = Action(SfnJson.Default.DescribeMapRunRequest, SfnJson.Default.DescribeMapRunResponse, DescribeMapRun),
            ["ListMapRuns"] = Action(SfnJson.Default.ListMapRunsRequest, SfnJson.Default.ListMapRunsResponse, ListMapRuns),
        };
    }

    public StepFunctionsEngine Engine { get; }

    /// <summary>
    /// Registers the journal's state machines again and restores its executions (each RUNNING one resumes at its
    /// checkpoint); call once, before serving. Returns the executions resumed.
    /// </summary>
    public async Task<IReadOnlyList<Execution>> RestoreAsync(CancellationToken cancellationToken)
    {
        if (_journal is null)
        {
            return [];
        }

        await RestoreStateMachinesAsync(cancellationToken);
        return await Engine.RestoreAsync(cancellationToken);
    }

    /// <summary>An action that changed something answers once the change is durable, as the service's answers are.</summary>
    private Task DurableAsync(CancellationToken cancellationToken) => _journal is null ? Task.CompletedTask : _journal.DurableAsync().WaitAsync(cancellationToken);

    /// <summary>Runs one action on its JSON body; the answer's JSON body, or a <see cref="StepFunctionsApiException"/>.</summary>
    public Task<byte[]> InvokeAsync(string action, byte[] body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        return _actions.TryGetValue(action, out var handler)
            ? handler(body, cancellationToken)
            : throw new StepFunctionsApiException(SfnErrors.UnknownOperation,
                $"{action} is not an action this local Step Functions serves; it serves {string.Join(", ", Actions)}.");
    }

    private static Func<byte[], CancellationToken, Task<byte[]>> Action<TRequest, TResponse>(
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, Func<TRequest, TResponse> handle) =>
        Action(requestType, responseType, (request, _) => Task.FromResult(handle(request)));

    private static Func<byte[], CancellationToken, Task<byte[]>> Action<TRequest, TResponse>(
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, Func<TRequest, CancellationToken, Task<TResponse>> handle) =>
        async (body, cancellationToken) =>
        {
            TRequest? request;
            try
            {
                // The service treats an empty body as an empty request (then reports the missing members).
                request = body.Length == 0 ? JsonSerializer.Deserialize("{}", requestType) : JsonSerializer.Deserialize(body, requestType);
            }
            catch (JsonException e)
            {
                throw new StepFunctionsApiException(SfnErrors.Serialization, $"The request body is not the action's JSON: {e.Message}");
            }

            var response = await handle(request ?? throw new StepFunctionsApiException(SfnErrors.Serialization, "The request body is null."), cancellationToken);
            return JsonSerializer.SerializeToUtf8Bytes(response, responseType);
        };

    private static double Epoch(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / 1000.0;

    private static string Required(string? value, string member) =>
        value is { Length: > 0 } ? value : throw new StepFunctionsApiException(SfnErrors.Validation,
            $"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null");

    /// <summary>maxResults: 0 or absent means the default page (100); the service allows up to 1000.</summary>
    private static int PageSize(int? maxResults) => maxResults switch
    {
        null or 0 => 100,
        < 0 or > 1000 => throw new StepFunctionsApiException(SfnErrors.Validation,
            $"1 validation error detected: Value '{maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 1000"),
        var n => n.Value,
    };
}
