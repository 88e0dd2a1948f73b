namespace Writeback.StepFunctions.Tests;

/// <summary>
/// ValidateStateMachineDefinition's rules, one test each: the code, the location the service points at and, where it
/// was measured against the service, its wording. A definition the service refuses is refused by the engine's loader too.
/// </summary>
public sealed class DefinitionDiagnosticsTests
{
    private const string JsonataTop = """{"QueryLanguage":"JSONata","StartAt":"S","States":{"S":STATE}}""";
    private const string JsonPathTop = """{"StartAt":"S","States":{"S":STATE}}""";

    private static string JsonPath(string state) => JsonPathTop.Replace("STATE", state, StringComparison.Ordinal);

    private static string Jsonata(string state) => JsonataTop.Replace("STATE", state, StringComparison.Ordinal);

    /// <summary>The one error diagnostic of a definition, checked for code and location; the loader must refuse it too.</summary>
    private static DefinitionDiagnostic Only(string definition, string code, string? location)
    {
        var errors = StateMachineDefinition.Diagnose(definition).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var diagnostic = Assert.Single(errors);
        Assert.Equal(code, diagnostic.Code);
        Assert.Equal(location, diagnostic.Location);
        Assert.NotEmpty(StateMachineDefinition.Validate(definition));
        return diagnostic;
    }

    [Fact]
    public void A_valid_definition_has_no_diagnostics()
    {
        Assert.Empty(StateMachineDefinition.Diagnose(JsonPath("""{"Type":"Pass","End":true}""")));
        Assert.Empty(StateMachineDefinition.Diagnose(Jsonata("""{"Type":"Pass","Output":{"n":"{% $states.input.n + 1 %}"},"End":true}""")));
    }

    [Fact]
    public void Text_that_is_not_JSON_is_INVALID_JSON_DESCRIPTION_without_a_location()
    {
        Only("{not json", DiagnosticCodes.InvalidJsonDescription, null);
    }

    [Fact]
    public void A_blank_definition_is_MISSING_DESCRIPTION()
    {
        Assert.Equal(DiagnosticCodes.MissingDescription, Assert.Single(StateMachineDefinition.Diagnose("   ")).Code);
    }

    [Fact]
    public void Missing_StartAt_and_States_are_one_schema_error_naming_both_at_the_root()
    {
        var d = Only("""{"Comment":"nothing"}""", DiagnosticCodes.SchemaValidationFailed, "/");
        Assert.Equal("These fields are required: [StartAt, States]", d.Message);
    }

    [Fact]
    public void An_unknown_top_level_field_is_not_supported_at_the_root()
    {
        var d = Only("""{"Coment":"typo","StartAt":"S","States":{"S":{"Type":"Pass","End":true}}}""", DiagnosticCodes.SchemaValidationFailed, "/");
        Assert.Equal("Field 'Coment' is not supported", d.Message);
    }

    [Fact]
    public void A_state_without_Type_is_a_schema_error_at_the_state()
    {
        Assert.Equal("These fields are required: [Type]", Only(JsonPath("""{"End":true}"""), DiagnosticCodes.SchemaValidationFailed, "/States/S").Message);
    }

    [Fact]
    public void An_unknown_Type_is_a_schema_error_at_the_Type_field()
    {
        Only(JsonPath("""{"Type":"Sleep","End":true}"""), DiagnosticCodes.SchemaValidationFailed, "/States/S/Type");
    }

    [Fact]
    public void A_field_the_state_type_does_not_have_is_not_supported_at_the_state()
    {
        // Measured: TimeoutSeconds on a Map or a Parallel is refused, though a Task has it.
        var d = Only(JsonPath("""{"Type":"Parallel","TimeoutSeconds":5,"Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"End":true}"""),
            DiagnosticCodes.SchemaValidationFailed, "/States/S");
        Assert.Equal("Field 'TimeoutSeconds' is not supported", d.Message);
    }

    [Fact]
    public void A_JSONata_field_in_a_JSONPath_state_names_the_query_language_at_the_state()
    {
        var d = Only(JsonPath("""{"Type":"Pass","Output":{"a":1},"End":true}"""), DiagnosticCodes.SchemaValidationFailed, "/States/S");
        Assert.Equal("The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage", d.Message);
    }

    [Fact]
    public void Arguments_in_a_JSONPath_Task_names_the_query_language()
    {
        var d = Only(JsonPath("""{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"f"},"End":true}"""),
            DiagnosticCodes.SchemaValidationFailed, "/States/S");
        Assert.Contains("field 'Arguments' is only supported for the 'JSONata' QueryLanguage", d.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("InputPath", "\"$.a\"")]
    [InlineData("Parameters", "{\"a\":1}")]
    [InlineData("ResultPath", "\"$.r\"")]
    [InlineData("OutputPath", "\"$.o\"")]
    public void A_JSONPath_field_in_a_JSONata_state_names_the_query_language_at_the_field(string field, string value)
    {
        var d = Only(Jsonata($$"""{"Type":"Pass","{{field}}":{{value}},"End":true}"""), DiagnosticCodes.SchemaValidationFailed, $"/States/S/{field}");
        Assert.Equal($"The QueryLanguage is set to 'JSONata', but field '{field}' is only supported for the 'JSONPath' QueryLanguage", d.Message);
    }

    [Fact]
    public void ResultSelector_in_a_JSONata_Task_names_the_query_language()
    {
        Only(Jsonata("""{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"f"},"ResultSelector":{"a":1},"End":true}"""),
            DiagnosticCodes.SchemaValidationFailed, "/States/S/ResultSelector");
    }

    [Fact]
    public void A_key_ending_in_dollar_in_a_JSONata_state_is_refused_at_the_key()
    {
        var d = Only(Jsonata("""{"Type":"Pass","Output":{"inner":{"n.$":"$.n"}},"End":true}"""), DiagnosticCodes.SchemaValidationFailed, "/States/S/Output/inner/n.$");
        Assert.Contains("'n.$'", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_JSONata_expression_that_does_not_parse_is_INVALID_JSONATA_EXPRESSION_with_the_parser_message_without_its_code()
    {
        var d = Only(Jsonata("""{"Type":"Pass","Output":"{% 1 + %}","End":true}"""), DiagnosticCodes.InvalidJsonataExpression, "/States/S/Output");
        Assert.Equal("Unexpected end of expression", d.Message);
    }

    [Fact]
    public void An_invalid_expression_nested_in_Arguments_is_located_at_its_key()
    {
        Only(Jsonata("""{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"f","Payload":{"x":["ok","{% a[1,2) %}"]}},"End":true}"""),
            DiagnosticCodes.InvalidJsonataExpression, "/States/S/Arguments/Payload/x[1]");
    }

    [Fact]
    public void A_field_name_read_at_the_top_level_of_an_expression_is_UNSUPPORTED_JSONATA_EXPRESSION()
    {
        var d = Only(Jsonata("""{"Type":"Pass","Output":{"v":"{% phone %}"},"End":true}"""), DiagnosticCodes.UnsupportedJsonataExpression, "/States/S/Output/v");
        Assert.Equal("Reference to 'phone' at the top level is not supported.", d.Message);
    }

    [Fact]
    public void Field_names_inside_a_path_from_states_or_inside_a_lambda_are_not_top_level_references()
    {
        Assert.Empty(StateMachineDefinition.Diagnose(Jsonata(
            """{"Type":"Pass","Output":"{% $map($states.input.items[price > 1], function($i) { $i.name }) %}","End":true}""")));
    }

    [Fact]
    public void A_Condition_is_checked_like_any_JSONata_field()
    {
        Only("""
            {"QueryLanguage":"JSONata","StartAt":"C","States":{
              "C":{"Type":"Choice","Choices":[{"Condition":"{% n > 1 %}","Next":"D"}],"Default":"D"},
              "D":{"Type":"Succeed"}}}
            """, DiagnosticCodes.UnsupportedJsonataExpression, "/States/C/Choices[0]/Condition");
    }

    [Fact]
    public void A_JSONPath_state_in_a_JSONata_state_machine_is_refused_at_the_state()
    {
        var d = Only(Jsonata("""{"Type":"Pass","QueryLanguage":"JSONPath","End":true}"""), DiagnosticCodes.SchemaValidationFailed, "/States/S");
        Assert.Equal("'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", d.Message);
    }

    [Fact]
    public void A_JSONata_state_in_a_JSONPath_state_machine_is_allowed()
    {
        Assert.Empty(StateMachineDefinition.Diagnose(JsonPath("""{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input %}","End":true}""")));
    }

    [Fact]
    public void An_item_processor_cannot_declare_a_QueryLanguage()
    {
        var d = Only(JsonPath("""{"Type":"Map","ItemProcessor":{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}"""),
            DiagnosticCodes.SchemaValidationFailed, "/States/S/ItemProcessor");
        Assert.Equal("Field 'QueryLanguage' is not supported", d.Message);
    }

    [Fact]
    public void States_in_an_item_processor_inherit_the_machines_query_language_not_the_Maps()
    {
        // Measured: QueryLanguage JSONata on the Map does not make its inner Pass a JSONata state.
        var d = Only(JsonPath("""{"Type":"Map","QueryLanguage":"JSONata","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Output":1,"End":true}}},"End":true}"""),
            DiagnosticCodes.SchemaValidationFailed, "/States/S/ItemProcessor/States/P");
        Assert.Contains("'JSONPath', but field 'Output'", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_QueryLanguage_that_is_neither_language_is_a_schema_error_at_the_field()
    {
        Only(JsonPath("""{"Type":"Pass","QueryLanguage":"jsonata","End":true}"""), DiagnosticCodes.SchemaValidationFailed, "/States/S/QueryLanguage");
    }

    [Fact]
    public void A_state_with_both_Next_and_End_is_a_schema_error()
    {
        Only("""{"StartAt":"S","States":{"S":{"Type":"Pass","Next":"T","End":true},"T":{"Type":"Succeed"}}}""", DiagnosticCodes.SchemaValidationFailed, "/States/S");
    }

    [Fact]
    public void A_Next_to_no_state_is_MISSING_TRANSITION_TARGET_at_the_Next_field()
    {
        var found = StateMachineDefinition.Diagnose("""{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"NOPE"}}}""");
        // Measured: the dangling target first, then the missing terminal state (A was the only candidate).
        Assert.Equal(
            [("MISSING_TRANSITION_TARGET", "Missing 'Next' target: NOPE", "/States/A/Next"), ("MISSING_END_STATE", "Workflow has no terminal state", null)],
            found.Select(d => (d.Code, d.Message, d.Location)).ToArray());
    }

    [Fact]
    public void Dangling_Default_Choices_and_Catch_targets_say_Next_and_point_at_their_own_position()
    {
        var found = StateMachineDefinition.Diagnose("""
            {"StartAt":"C","States":{
              "C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"X1"}],"Default":"X2"},
              "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Catch":[{"ErrorEquals":["States.ALL"],"Next":"X3"}],"End":true}}}
            """).Where(d => d.Code == DiagnosticCodes.MissingTransitionTarget && d.Message.StartsWith("Missing", StringComparison.Ordinal));
        Assert.Equal(
            [("Missing 'Next' target: X2", "/States/C/Default"), ("Missing 'Next' target: X1", "/States/C/Choices[0]/Next"), ("Missing 'Next' target: X3", "/States/T/Catch[0]/Next")],
            found.Select(d => (d.Message, d.Location)).ToArray());
    }

    [Fact]
    public void A_state_nothing_leads_to_is_MISSING_TRANSITION_TARGET_not_reachable()
    {
        var d = Only("""{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"C":{"Type":"Pass","End":true}}}""", DiagnosticCodes.MissingTransitionTarget, "/States/C");
        Assert.Equal("State \"C\" is not reachable.", d.Message);
    }

    [Fact]
    public void A_loop_without_a_terminal_state_is_one_MISSING_END_STATE_and_no_unreachable_state()
    {
        var d = Only("""{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"},"Z":{"Type":"Pass","Next":"A"}}}""",
            DiagnosticCodes.MissingEndState, null);
        Assert.Equal("Workflow has no terminal state", d.Message);
    }

    [Fact]
    public void A_branch_is_its_own_scope_for_transitions()
    {
        Only("""
            {"StartAt":"P","States":{
              "P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{
                "B":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":true,"Next":"After"}],"Default":"E"},
                "E":{"Type":"Succeed"}}}],"Next":"After"},
              "After":{"Type":"Succeed"}}}
            """, DiagnosticCodes.MissingTransitionTarget, "/States/P/Branches[0]/States/B/Choices[0]/Next");
    }

    [Fact]
    public void A_StartAt_naming_no_state_is_MISSING_TRANSITION_TARGET_at_StartAt()
    {
        Only("""{"StartAt":"Missing","States":{"P":{"Type":"Pass","End":true}}}""", DiagnosticCodes.MissingTransitionTarget, "/StartAt");
    }

    [Fact]
    public void A_state_name_used_twice_in_the_machine_is_DUPLICATE_STATE_NAME()
    {
        Only(JsonPath("""{"Type":"Map","ItemProcessor":{"StartAt":"S","States":{"S":{"Type":"Pass","End":true}}},"End":true}"""),
            DiagnosticCodes.DuplicateStateName, "/States/S/ItemProcessor/States/S");
    }

    [Fact]
    public void A_state_name_over_80_characters_is_INVALID_STATE_NAME()
    {
        var name = new string('n', 81);
        Only("{\"StartAt\":\"" + name + "\",\"States\":{\"" + name + "\":{\"Type\":\"Pass\",\"End\":true}}}", DiagnosticCodes.InvalidStateName, $"/States/{name}");
    }

    [Fact]
    public void A_Task_Resource_that_is_not_an_ARN_is_INVALID_RESOURCE()
    {
        Only(JsonPath("""{"Type":"Task","Resource":"createToken","End":true}"""), DiagnosticCodes.InvalidResource, "/States/S/Resource");
    }

    [Fact]
    public void A_path_field_that_is_not_a_JSONPath_is_a_schema_error_at_the_field()
    {
        var d = Only(JsonPath("""{"Type":"Pass","InputPath":"a.b","End":true}"""), DiagnosticCodes.SchemaValidationFailed, "/States/S/InputPath");
        Assert.Equal("The value for the field 'InputPath' must be a valid JSONPath", d.Message);
    }

    [Fact]
    public void A_variable_reference_in_a_path_field_is_not_judged_as_a_JSONPath()
    {
        Assert.DoesNotContain(StateMachineDefinition.Diagnose(JsonPath("""{"Type":"Pass","InputPath":"$order.items","End":true}""")),
            d => d.Message.Contains("must be a valid JSONPath", StringComparison.Ordinal));
    }

    [Fact]
    public void A_ResultPath_with_a_wildcard_must_be_a_reference_path()
    {
        Only(JsonPath("""{"Type":"Pass","ResultPath":"$.a[*]","End":true}"""), DiagnosticCodes.SchemaValidationFailed, "/States/S/ResultPath");
    }

    [Fact]
    public void A_path_looking_value_under_a_key_without_dollar_is_a_NO_DOLLAR_warning_and_still_valid()
    {
        var definition = JsonPath("""{"Type":"Pass","Parameters":{"id":"$.id"},"End":true}""");
        var d = Assert.Single(StateMachineDefinition.Diagnose(definition));
        Assert.Equal((DiagnosticSeverity.Warning, DiagnosticCodes.NoDollar, "/States/S/Parameters/id"), (d.Severity, d.Code, d.Location));
        Assert.Empty(StateMachineDefinition.Validate(definition));
    }

    [Fact]
    public void What_only_the_local_engine_refuses_is_a_schema_error_at_the_state_that_names_the_feature()
    {
        var d = Only(JsonPath("""{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}"""),
            DiagnosticCodes.SchemaValidationFailed, "/States/S");
        Assert.Contains("waitForTaskToken", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_loader_quotes_a_service_refusal_as_code_message_and_location()
    {
        var e = Assert.Throws<InvalidDefinitionException>(() => StateMachineDefinition.Parse(Jsonata("""{"Type":"Pass","Output":"{% phone %}","End":true}""")));
        Assert.Equal("UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not supported. at /States/S/Output", Assert.Single(e.Errors));
    }
}
