using System.Globalization;

namespace Writeback.StepFunctions;

/// <summary>How much a diagnostic matters: an ERROR refuses the definition, a WARNING does not.</summary>
public enum DiagnosticSeverity { Error, Warning }

/// <summary>
/// One finding of ValidateStateMachineDefinition, in the service's terms: a code (SCHEMA_VALIDATION_FAILED,
/// MISSING_TRANSITION_TARGET, …), a message and the location as the service writes it (<c>/States/A/Next</c>,
/// <c>/States/C/Choices[0]/Next</c>); no location where the service gives none (a JSON syntax error, a workflow with no
/// terminal state).
/// </summary>
public sealed record DefinitionDiagnostic(DiagnosticSeverity Severity, string Code, string Message, string? Location)
{
    public string SeverityName => Severity == DiagnosticSeverity.Error ? "ERROR" : "WARNING";

    /// <summary>How CreateStateMachine quotes it in InvalidDefinition: <c>CODE: message at location</c> (the service prints "null" for none).</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Code}: {Message} at {Location ?? "null"}");
}

/// <summary>The diagnostic codes the service documents for ValidateStateMachineDefinition, by name.</summary>
public static class DiagnosticCodes
{
    public const string InvalidJsonDescription = "INVALID_JSON_DESCRIPTION";
    public const string MissingDescription = "MISSING_DESCRIPTION";
    public const string SchemaValidationFailed = "SCHEMA_VALIDATION_FAILED";
    public const string InvalidResource = "INVALID_RESOURCE";
    public const string MissingEndState = "MISSING_END_STATE";
    public const string DuplicateStateName = "DUPLICATE_STATE_NAME";
    public const string InvalidStateName = "INVALID_STATE_NAME";
    public const string MissingTransitionTarget = "MISSING_TRANSITION_TARGET";
    public const string InvalidJsonataExpression = "INVALID_JSONATA_EXPRESSION";
    public const string UnsupportedJsonataExpression = "UNSUPPORTED_JSONATA_EXPRESSION";
    public const string NoDollar = "NO_DOLLAR";
}
