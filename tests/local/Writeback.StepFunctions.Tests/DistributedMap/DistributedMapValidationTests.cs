namespace Writeback.StepFunctions.Tests.DistributedMap;

/// <summary>Loading a Distributed Map: what the service requires of its fields, reported with the state's name.</summary>
public sealed class DistributedMapValidationTests
{
    private static void Refused(string definition, string expected)
    {
        var errors = StateMachineDefinition.Validate(definition);
        Assert.True(errors.Any(e => e.Contains(expected, StringComparison.Ordinal)), $"expected an error containing '{expected}', got: {string.Join(" | ", errors)}");
    }

    [Fact]
    public void A_Distributed_Map_definition_loads()
    {
        Assert.Empty(StateMachineDefinition.Validate(DistributedKit.Map("\"MaxConcurrency\":10000,\"ToleratedFailurePercentage\":5,\"Label\":\"shards\",\"ItemBatcher\":{\"MaxItemsPerBatch\":10}")));
    }

    [Fact]
    public void A_Distributed_Map_needs_ExecutionType_STANDARD_or_EXPRESS()
    {
        Refused(DistributedKit.Map("", executionType: "SOMETIMES"), "ExecutionType STANDARD or EXPRESS");
    }

    [Fact]
    public void Distributed_Map_fields_on_an_inline_Map_are_refused()
    {
        var definition = """{"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}""";
        Refused(definition, "ToleratedFailureCount belongs to a Distributed Map");
    }

    [Fact]
    public void MaxConcurrency_above_10000_is_refused()
    {
        Refused(DistributedKit.Map("\"MaxConcurrency\":10001"), "above the Distributed Map's limit of 10000");
    }

    [Fact]
    public void ItemsPath_and_ItemReader_are_mutually_exclusive()
    {
        Refused(DistributedKit.Map("\"ItemsPath\":\"$.x\",\"ItemReader\":{\"Resource\":\"arn:aws:states:::s3:getObject\",\"Parameters\":{\"Bucket\":\"b\",\"Key\":\"k\"},\"ReaderConfig\":{\"InputType\":\"JSON\"}}"),
            "ItemsPath and ItemReader are mutually exclusive");
    }

    [Fact]
    public void CSV_needs_a_header_location_and_GIVEN_needs_headers()
    {
        Refused(DistributedKit.Map("\"ItemReader\":{\"Resource\":\"arn:aws:states:::s3:getObject\",\"Parameters\":{\"Bucket\":\"b\",\"Key\":\"k\"},\"ReaderConfig\":{\"InputType\":\"CSV\",\"CSVHeaderLocation\":\"GIVEN\"}}"),
            "GIVEN needs CSVHeaders");
    }

    [Fact]
    public void An_ItemBatcher_needs_a_limit_and_MaxInputBytesPerBatch_is_at_most_256_KiB()
    {
        Refused(DistributedKit.Map("\"ItemBatcher\":{\"BatchInput\":{}}"), "needs at least one of MaxItemsPerBatch");
        Refused(DistributedKit.Map("\"ItemBatcher\":{\"MaxInputBytesPerBatch\":262145}"), "MaxInputBytesPerBatch must be an integer from 1 to 262144");
    }

    [Fact]
    public void ToleratedFailurePercentage_is_0_to_100_and_exclusive_with_its_Path()
    {
        Refused(DistributedKit.Map("\"ToleratedFailurePercentage\":101"), "ToleratedFailurePercentage must be a number from 0 to 100");
        Refused(DistributedKit.Map("\"ToleratedFailureCount\":1,\"ToleratedFailureCountPath\":\"$.n\""), "ToleratedFailureCount and ToleratedFailureCountPath are mutually exclusive");
    }

    [Fact]
    public void A_ResultWriter_cannot_be_empty_and_writes_only_with_s3_putObject()
    {
        Refused(DistributedKit.Map("\"ResultWriter\":{}"), "ResultWriter: cannot be empty");
        Refused(DistributedKit.Map("\"ResultWriter\":{\"Resource\":\"arn:aws:states:::s3:getObject\",\"Parameters\":{\"Bucket\":\"b\"}}"), "is not arn:aws:states:::s3:putObject");
    }

    [Fact]
    public void A_Label_is_at_most_40_characters_of_letters_digits_hyphens_and_underscores()
    {
        Refused(DistributedKit.Map("\"Label\":\"has space\""), "Label 'has space' must have 1 to 40 characters");
    }

    [Fact]
    public void A_JSONata_Distributed_Map_is_refused_rather_than_run_inline()
    {
        var definition = """
            {"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","End":true,
              "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}
            """;
        Refused(definition, "a Distributed Map in a JSONata state is not supported");
    }
}
