using Writeback.StepFunctions.Local.Wire;

namespace Writeback.StepFunctions.Local;

/// <summary>State machines: created, updated, described, listed and deleted; Standard only.</summary>
public sealed partial class LocalStepFunctionsService
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Registered> _machines = new(StringComparer.Ordinal);

    /// <summary>The role a state machine created without one reports (the service requires one; a person at a CLI may omit it).</summary>
    private string DefaultRoleArn => $"arn:aws:iam::{Engine.Options.AccountId}:role/StepFunctionsLocal";

    /// <summary>
    /// Creates (or, with the same definition and role, returns) a state machine, as CreateStateMachine does.
    /// </summary>
    /// <exception cref="StepFunctionsApiException">InvalidName, InvalidDefinition, StateMachineAlreadyExists.</exception>
    public StateMachine CreateStateMachine(string name, string definition, string? roleArn = null)
    {
        if (name.Length is 0 or > 80 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new StepFunctionsApiException(SfnErrors.InvalidName, $"Invalid Name: '{name}' (use 1 to 80 characters of [0-9A-Za-z_-])");
        }

        var machine = Parse(name, definition);
        var role = roleArn ?? DefaultRoleArn;
        lock (_lock)
        {
            if (_machines.TryGetValue(machine.Arn, out var existing))
            {
                // Same name, definition and role is idempotent on the service; anything else is a conflict.
                if (existing.Machine.DefinitionJson == definition && existing.RoleArn == role)
                {
                    return existing.Machine;
                }

                throw new StepFunctionsApiException(SfnErrors.StateMachineAlreadyExists, $"State Machine Already Exists: '{machine.Arn}'");
            }

            Keep(_machines[machine.Arn] = new Registered(machine, role, Engine.Options.TimeProvider.GetUtcNow()));
        }

        return machine;
    }

    /// <summary>
    /// What a deployment does with a template: creates the state machine, or gives the existing one this definition and
    /// role (serve restarted after the workflow file changed). Executions already started keep theirs.
    /// </summary>
    public StateMachine CreateOrUpdateStateMachine(string name, string definition, string roleArn)
    {
        var arn = Parse(name, definition).Arn;
        if (FindOrNull(arn) is not { } existing)
        {
            return CreateStateMachine(name, definition, roleArn);
        }

        if (existing.Machine.DefinitionJson != definition || existing.RoleArn != roleArn)
        {
            UpdateStateMachine(new UpdateStateMachineRequest(arn, definition, roleArn));
        }

        return Find(arn).Machine;
    }

    /// <summary>The state machine with this ARN as it is now (an update gives new executions the new definition).</summary>
    public StateMachine DescribeStateMachine(string stateMachineArn) => Find(stateMachineArn).Machine;

    private async Task<CreateStateMachineResponse> CreateStateMachineAsync(CreateStateMachineRequest request, CancellationToken cancellationToken)
    {
        RequireStandard(request.Type);
        var machine = CreateStateMachine(Required(request.Name, "name"), Required(request.Definition, "definition"), request.RoleArn);
        await DurableAsync(cancellationToken);
        return new CreateStateMachineResponse(machine.Arn, Epoch(Find(machine.Arn).Created));
    }

    private UpdateStateMachineResponse UpdateStateMachine(UpdateStateMachineRequest request)
    {
        var arn = Required(request.StateMachineArn, "stateMachineArn");
        if (request.Definition is null && request.RoleArn is null)
        {
            throw new StepFunctionsApiException(SfnErrors.Validation, "Either the definition or the roleArn must be specified");
        }

        var current = Find(arn);
        // Executions already started keep the definition they started with, as on the service.
        var machine = request.Definition is null ? current.Machine : Parse(current.Machine.Name, request.Definition);
        var updated = Engine.Options.TimeProvider.GetUtcNow();
        lock (_lock)
        {
            Keep(_machines[arn] = current with { Machine = machine, RoleArn = request.RoleArn ?? current.RoleArn, Updated = updated });
        }

        return new UpdateStateMachineResponse(Epoch(updated));
    }

    private async Task<UpdateStateMachineResponse> UpdateStateMachineAsync(UpdateStateMachineRequest request, CancellationToken cancellationToken)
    {
        var response = UpdateStateMachine(request);
        await DurableAsync(cancellationToken);
        return response;
    }

    private DescribeStateMachineResponse DescribeStateMachine(StateMachineArnRequest request)
    {
        var registered = Find(Required(request.StateMachineArn, "stateMachineArn"));
        return new DescribeStateMachineResponse(registered.Machine.Arn, registered.Machine.Name, "ACTIVE", registered.Machine.DefinitionJson,
            registered.RoleArn, "STANDARD", Epoch(registered.Created));
    }

    private ListStateMachinesResponse ListStateMachines(ListStateMachinesRequest request)
    {
        List<Registered> all;
        lock (_lock)
        {
            all = [.. _machines.Values.OrderBy(m => m.Machine.Name, StringComparer.Ordinal)];
        }

        var (page, next) = PageToken.Page(all, request.NextToken, "ListStateMachines", PageSize(request.MaxResults));
        return new ListStateMachinesResponse([.. page.Select(m => new StateMachineListItem(m.Machine.Arn, m.Machine.Name, "STANDARD", Epoch(m.Created)))], next);
    }

    private async Task<EmptyResponse> DeleteStateMachineAsync(StateMachineArnRequest request, CancellationToken cancellationToken)
    {
        var arn = Required(request.StateMachineArn, "stateMachineArn");
        CheckArn(arn, "stateMachine");
        lock (_lock)
        {
            // Deleting an unknown state machine succeeds on the service; its executions stay describable.
            if (_machines.Remove(arn))
            {
                _journal?.StateMachineDeleted(arn);
            }
        }

        await DurableAsync(cancellationToken);
        return new EmptyResponse();
    }

    /// <summary>Journals a state machine as registered now (called under the lock, so saves land in order).</summary>
    private void Keep(Registered registered) =>
        _journal?.StateMachineSaved(registered.Machine.Arn, registered.Machine.Name, registered.Machine.DefinitionJson, registered.RoleArn, registered.Created, registered.Updated);

    /// <summary>The state machines the journal kept, registered again as they were (before any execution is restored).</summary>
    private async Task RestoreStateMachinesAsync(CancellationToken cancellationToken)
    {
        foreach (var kept in await _journal!.LoadStateMachinesAsync(cancellationToken))
        {
            var machine = Parse(kept.Name, kept.DefinitionJson);
            lock (_lock)
            {
                _machines[machine.Arn] = new Registered(machine, kept.RoleArn, kept.Created, kept.Updated);
            }
        }
    }

    /// <summary>
    /// The service's ValidateStateMachineDefinition: FAIL when any ERROR is found; WARNINGs only when asked for
    /// (severity WARNING); at most maxResults (1–100, 0 or absent meaning 100) diagnostics, truncated saying whether more were found.
    /// </summary>
    private ValidateStateMachineDefinitionResponse ValidateStateMachineDefinition(ValidateStateMachineDefinitionRequest request)
    {
        RequireStandard(request.Type);
        var withWarnings = request.Severity switch
        {
            null or "ERROR" => false,
            "WARNING" => true,
            var other => throw new StepFunctionsApiException(SfnErrors.Validation,
                $"1 validation error detected: Value '{other}' at 'severity' failed to satisfy constraint: Member must satisfy enum value set: [WARNING, ERROR]"),
        };
        var limit = request.MaxResults switch
        {
            null or 0 => 100,
            < 0 or > 100 => throw new StepFunctionsApiException(SfnErrors.Validation,
                $"1 validation error detected: Value '{request.MaxResults}' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 100"),
            var n => n.Value,
        };
        var found = StateMachineDefinition.Diagnose(Required(request.Definition, "definition"))
            .Where(d => withWarnings || d.Severity == DiagnosticSeverity.Error)
            .ToList();
        var result = found.Any(d => d.Severity == DiagnosticSeverity.Error) ? "FAIL" : "OK";
        return new ValidateStateMachineDefinitionResponse(result,
            [.. found.Take(limit).Select(d => new ValidationDiagnostic(d.SeverityName, d.Code, d.Message, d.Location))], found.Count > limit);
    }

    private StateMachine Parse(string name, string definition)
    {
        try
        {
            return Engine.CreateStateMachine(name, definition);
        }
        catch (InvalidDefinitionException e)
        {
            // The service quotes every error diagnostic as "CODE: message at location", joined with ", ".
            var errors = StateMachineDefinition.Diagnose(definition).Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
            throw new StepFunctionsApiException(SfnErrors.InvalidDefinition,
                $"Invalid State Machine Definition: '{string.Join(", ", errors.Count > 0 ? errors : e.Errors)}'");
        }
    }

    private Registered Find(string stateMachineArn)
    {
        CheckArn(stateMachineArn, "stateMachine");
        lock (_lock)
        {
            return _machines.TryGetValue(stateMachineArn, out var registered)
                ? registered
                : throw new StepFunctionsApiException(SfnErrors.StateMachineDoesNotExist, $"State Machine Does Not Exist: '{stateMachineArn}'");
        }
    }

    private Registered? FindOrNull(string stateMachineArn)
    {
        lock (_lock)
        {
            return _machines.GetValueOrDefault(stateMachineArn);
        }
    }

    /// <summary><c>arn:aws:states:{region}:{account}:{kind}:…</c>, else InvalidArn (the service checks the shape before it looks).</summary>
    private static void CheckArn(string arn, string kind)
    {
        var parts = arn.Split(':');
        var expected = kind == "execution" ? 8 : 7;
        if (parts.Length != expected || parts[0] != "arn" || parts[2] != "states" || parts[5] != kind || parts.Any(p => p.Length == 0))
        {
            throw new StepFunctionsApiException(SfnErrors.InvalidArn, $"Invalid Arn: 'Resource type not valid in this context: {arn}'");
        }
    }

    private static void RequireStandard(string? type)
    {
        if (type is not (null or "STANDARD"))
        {
            throw new StepFunctionsApiException(SfnErrors.StateMachineTypeNotSupported,
                $"State machine type '{type}' is not served locally; the writeback workflow is a STANDARD state machine.");
        }
    }

    private sealed record Registered(StateMachine Machine, string RoleArn, DateTimeOffset Created, DateTimeOffset? Updated = null);
}
