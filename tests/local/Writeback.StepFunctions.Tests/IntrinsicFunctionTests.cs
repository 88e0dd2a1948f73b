using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>The AWS documentation's examples for each of the 18 intrinsic functions, run through a Pass state's Parameters.</summary>
public sealed class IntrinsicFunctionTests
{
    private static async Task<JsonNode?> Eval(string expression, string input = "{}")
    {
        var escaped = System.Text.Json.JsonSerializer.Serialize(expression);
        var output = await Output(Pass("""{"Parameters":{"r.$":""" + escaped + "}}"), input);
        return output!["r"];
    }

    [Fact]
    public async Task States_Format_fills_placeholders_in_order_and_honours_escapes()
    {
        Assert.Equal("Hello, my name is Arnav.", (await Eval("States.Format('Hello, my name is {}.', $.name)", """{"name":"Arnav"}"""))!.GetValue<string>());
        Assert.Equal("{} is 3 {literal}", (await Eval("States.Format('\\{\\} is {} \\{literal\\}', 3)"))!.GetValue<string>());
    }

    [Fact]
    public async Task States_StringToJson_parses_a_JSON_string()
    {
        JsonEqual("""{"foo":"bar"}""", await Eval("States.StringToJson($.escaped)", """{"escaped":"{\"foo\": \"bar\"}"}"""));
    }

    [Fact]
    public async Task States_JsonToString_serializes_compactly()
    {
        Assert.Equal("""{"foo":"bar"}""", (await Eval("States.JsonToString($.data)", """{"data":{"foo":"bar"}}"""))!.GetValue<string>());
    }

    [Fact]
    public async Task States_Array_builds_an_array_of_its_arguments()
    {
        JsonEqual("""["Foo",2020,{"a":1},null]""", await Eval("States.Array('Foo', 2020, $.o, null)", """{"o":{"a":1}}"""));
    }

    [Fact]
    public async Task States_ArrayPartition_chunks_with_a_shorter_last_chunk()
    {
        JsonEqual("[[1,2,3,4],[5,6,7,8],[9]]", await Eval("States.ArrayPartition($.a, 4)", """{"a":[1,2,3,4,5,6,7,8,9]}"""));
    }

    [Fact]
    public async Task States_ArrayContains_finds_a_value()
    {
        Assert.True((await Eval("States.ArrayContains($.a, $.v)", """{"a":[1,2,3,4,5,6,7,8,9],"v":5}"""))!.GetValue<bool>());
        Assert.False((await Eval("States.ArrayContains($.a, 10)", """{"a":[1,2]}"""))!.GetValue<bool>());
    }

    [Fact]
    public async Task States_ArrayRange_is_inclusive_and_steps()
    {
        JsonEqual("[1,3,5,7,9]", await Eval("States.ArrayRange(1, 9, 2)"));
    }

    [Fact]
    public async Task States_ArrayRange_refuses_more_than_1000_items()
    {
        var execution = await Failed(Pass("""{"Parameters":{"r.$":"States.ArrayRange(1, 2000, 1)"}}"""));
        Assert.Equal(StatesErrors.IntrinsicFailure, execution.Error);
    }

    [Fact]
    public async Task States_ArrayGetItem_returns_the_item_at_an_index()
    {
        Assert.Equal(6, (await Eval("States.ArrayGetItem($.a, $.i)", """{"a":[1,2,3,4,5,6,7,8,9],"i":5}"""))!.GetValue<int>());
    }

    [Fact]
    public async Task States_ArrayLength_counts_items()
    {
        Assert.Equal(9, (await Eval("States.ArrayLength($.a)", """{"a":[1,2,3,4,5,6,7,8,9]}"""))!.GetValue<int>());
    }

    [Fact]
    public async Task States_ArrayUnique_keeps_first_occurrences()
    {
        JsonEqual("[1,2,3,4]", await Eval("States.ArrayUnique($.a)", """{"a":[1,2,3,3,3,3,3,3,4]}"""));
    }

    [Fact]
    public async Task States_Base64Encode_and_Base64Decode_round_trip()
    {
        Assert.Equal("RGF0YSB0byBlbmNvZGU=", (await Eval("States.Base64Encode($.s)", """{"s":"Data to encode"}"""))!.GetValue<string>());
        Assert.Equal("Data to encode", (await Eval("States.Base64Decode($.s)", """{"s":"RGF0YSB0byBlbmNvZGU="}"""))!.GetValue<string>());
    }

    [Fact]
    public async Task States_Hash_computes_SHA_1_as_lowercase_hex()
    {
        Assert.Equal("aaff4a450a104cd177d28d18d74485e8cae074b7",
            (await Eval("States.Hash($.Data, $.Algorithm)", """{"Data":"input data","Algorithm":"SHA-1"}"""))!.GetValue<string>());
    }

    [Fact]
    public async Task States_JsonMerge_is_shallow_and_the_right_side_wins()
    {
        JsonEqual("""{"a":{"a3":1,"a4":2},"b":2,"c":3}""",
            await Eval("States.JsonMerge($.j1, $.j2, false)", """{"j1":{"a":{"a1":1,"a2":2},"b":2},"j2":{"a":{"a3":1,"a4":2},"c":3}}"""));
    }

    [Fact]
    public async Task States_MathRandom_stays_in_range_and_repeats_with_a_seed()
    {
        var first = (await Eval("States.MathRandom(1, 999, 1234)"))!.GetValue<long>();
        var second = (await Eval("States.MathRandom(1, 999, 1234)"))!.GetValue<long>();
        Assert.InRange(first, 1, 998);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task States_MathAdd_adds_integers_including_negatives()
    {
        Assert.Equal(110, (await Eval("States.MathAdd($.v, -1)", """{"v":111}"""))!.GetValue<int>());
    }

    [Fact]
    public async Task An_intrinsic_takes_another_intrinsics_number_as_its_argument()
    {
        Assert.Equal(-7, (await Eval("States.MathAdd(States.ArrayLength($.xs), -10)", """{"xs":[1,2,3]}"""))!.GetValue<long>());
    }

    [Fact]
    public async Task A_Choice_compares_a_number_that_an_intrinsic_computed()
    {
        var definition = """
            {"StartAt":"Count","States":{
              "Count":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)"},"Next":"C"},
              "C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThanEquals":3,"Next":"Yes"}],"Default":"No"},
              "Yes":{"Type":"Pass","Result":"yes","End":true},
              "No":{"Type":"Pass","Result":"no","End":true}}}
            """;
        Assert.Equal("yes", (await Output(definition, """{"n":0}"""))!.GetValue<string>());
        Assert.Equal("no", (await Output(definition, """{"n":3}"""))!.GetValue<string>());
    }

    [Fact]
    public async Task States_StringSplit_splits_on_any_delimiter_character()
    {
        JsonEqual("""["This","is","a","test","string"]""", await Eval("States.StringSplit($.s, $.d)", """{"s":"This.is+a,test=string","d":".+,="}"""));
        JsonEqual("""["1","2","3","4","5"]""", await Eval("States.StringSplit('1,2,3,4,5', ',')"));
    }

    [Fact]
    public async Task States_UUID_returns_a_version_4_uuid()
    {
        var uuid = Guid.Parse((await Eval("States.UUID()"))!.GetValue<string>());
        Assert.Equal(4, uuid.Version);
    }

    [Fact]
    public async Task Intrinsic_functions_nest()
    {
        Assert.Equal("3 items", (await Eval("States.Format('{} items', States.ArrayLength($.a))", """{"a":[1,2,3]}"""))!.GetValue<string>());
    }

    [Fact]
    public async Task An_intrinsic_function_that_fails_raises_States_IntrinsicFailure()
    {
        var execution = await Failed(Pass("""{"Parameters":{"r.$":"States.ArrayGetItem($.a, 5)"}}"""), """{"a":[1]}""");
        Assert.Equal(StatesErrors.IntrinsicFailure, execution.Error);
    }

    [Fact]
    public void An_unknown_intrinsic_function_is_refused_when_the_definition_loads()
    {
        var errors = StateMachineDefinition.Validate(Pass("""{"Parameters":{"r.$":"States.Nope(1)"}}"""));
        Assert.Contains(errors, e => e.Contains("State 'P'") && e.Contains("States.Nope"));
    }
}
