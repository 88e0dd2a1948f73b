using System.Text.RegularExpressions;

namespace Writeback.StepFunctions;

/// <summary>ValidateStateMachineDefinition: the service's diagnostics, then what only the local engine refuses.</summary>
public sealed partial class StateMachineDefinition
{
    /// <summary>How the loader words an unreachable state (Definition.cs, CheckReachability).</summary>
    private const string UnreachableMark = ": unreachable; no transition leads to it";

    /// <summary>
    /// Every diagnostic for a definition, errors and warnings, in the service's shape: first what the service reports
    /// (<see cref="ServiceValidator"/>), then the loader's own refusals — what the local engine does not run, or a rule
    /// the service check above does not spell — as SCHEMA_VALIDATION_FAILED at the state they name. A loader message about
    /// a place the service check already reported is left out, so one problem is one diagnostic.
    /// </summary>
    public static IReadOnlyList<DefinitionDiagnostic> Diagnose(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var service = ServiceValidator.Run(json);
        var found = service.Found.ToList();
        if (found.Any(d => d.Code is DiagnosticCodes.InvalidJsonDescription or DiagnosticCodes.MissingDescription))
        {
            return found;
        }

        var quoted = found.Select(d => d.ToString()).ToHashSet(StringComparer.Ordinal);
        var errorLocations = found.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Location ?? "/").ToList();
        // The service reports no unreachable state when the workflow has no terminal state; neither does this.
        var noEnd = found.Any(d => d.Code == DiagnosticCodes.MissingEndState);
        foreach (var message in Load(json).Errors.Where(m => !quoted.Contains(m) && !(noEnd && m.Contains(UnreachableMark, StringComparison.Ordinal))))
        {
            var location = LocationOf(message, service.Locations);
            var covered = errorLocations.Any(l => l == location || l.StartsWith(location + "/", StringComparison.Ordinal)
                || (location == "/" && !l.StartsWith("/States/", StringComparison.Ordinal)));
            if (!covered)
            {
                found.Add(new DefinitionDiagnostic(DiagnosticSeverity.Error, DiagnosticCodes.SchemaValidationFailed, message, location));
            }
        }

        return found;
    }

    /// <summary>The service's refusals as loader messages, for a definition the loader itself accepted.</summary>
    private static IEnumerable<string> ServiceErrors(string json) =>
        ServiceValidator.Run(json).Found.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString());

    /// <summary>The location of the state (or branch, or item processor) a loader message opens with; "/" for the machine.</summary>
    private static string LocationOf(string message, IReadOnlyDictionary<string, string> states)
    {
        var match = LoaderSubject().Match(message);
        if (!match.Success || !states.TryGetValue(match.Groups["name"].Value, out var state))
        {
            return "/";
        }

        if (match.Groups["index"].Success)
        {
            return $"{state}/Branches[{match.Groups["index"].Value}]";
        }

        return match.Groups["part"].Value switch
        {
            "The item processor of " => state + "/ItemProcessor",
            "The iterator of " => state + "/Iterator",
            _ => state,
        };
    }

    [GeneratedRegex("^(?<part>Branch (?<index>[0-9]+) of |The item processor of |The iterator of )?[Ss]tate '(?<name>[^']*)'")]
    private static partial Regex LoaderSubject();
}
