using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>
/// The examples of the Step Functions developer guide's "Passing data between states with variables" and
/// "Transforming data with JSONata" pages, run end to end.
/// </summary>
public sealed class VariablesGuideExamplesTests
{
    /// <summary>
    /// The guide's price watcher: store the wanted price and the days to wait, fetch the current price, and wait a day
    /// and try again while it is too high, counting the days down in a Choice rule's Assign. A JSONPath state machine
    /// whose first state stays JSONPath, as in the guide.
    /// </summary>
    internal const string PriceWatcher = """
        {"Comment":"Watch a product's price","StartAt":"Store inputs","States":{
          "Store inputs":{"Type":"Pass","Comment":"Store the input desired price into a variable: $desiredPrice",
            "Assign":{"product.$":"$.product","desiredPrice.$":"$.desired_price","maximumWait.$":"$.max_days"},"Next":"Get Current Price"},
          "Get Current Price":{"Type":"Task","QueryLanguage":"JSONata","Resource":"arn:aws:states:::lambda:invoke",
            "Arguments":{"FunctionName":"GetCurrentPrice","Payload":{"product":"{% $product %}"}},
            "Assign":{"currentPrice":"{% $states.result.Payload.current_price %}"},"Next":"Check Price"},
          "Check Price":{"Type":"Choice","QueryLanguage":"JSONata","Choices":[
              {"Condition":"{% $currentPrice <= $desiredPrice %}","Next":"Notify"},
              {"Condition":"{% $maximumWait > 0 %}","Assign":{"maximumWait":"{% $maximumWait - 1 %}"},"Next":"Wait for a day"}],
            "Default":"Give up"},
          "Wait for a day":{"Type":"Wait","QueryLanguage":"JSONata","Seconds":86400,"Next":"Get Current Price"},
          "Notify":{"Type":"Pass","QueryLanguage":"JSONata","Output":{"product":"{% $product %}","price":"{% $currentPrice %}","daysLeft":"{% $maximumWait %}"},"End":true},
          "Give up":{"Type":"Fail","QueryLanguage":"JSONata","Error":"Price.TooHigh","Cause":"{% 'still ' & $string($currentPrice) %}"}}}
        """;

    [Fact]
    public async Task The_price_watcher_waits_until_the_price_drops_counting_the_days_in_a_variable()
    {
        var prices = new Queue<int>([120, 110, 90]);
        var clock = new VirtualClock(Start);
        var invoker = Functions().Add("GetCurrentPrice", _ => new JsonObject { ["current_price"] = prices.Dequeue() }.ToJsonString());
        var output = await Output(PriceWatcher, """{"product":"kettle","desired_price":100,"max_days":5}""", invoker, clock);
        JsonEqual("""{"product":"kettle","price":90,"daysLeft":3}""", output);
        Assert.Equal(Start.AddDays(2), clock.GetUtcNow());
    }

    [Fact]
    public async Task The_price_watcher_gives_up_when_the_days_run_out()
    {
        var invoker = Functions().Add("GetCurrentPrice", _ => """{"current_price":150}""");
        var execution = await Failed(PriceWatcher, """{"product":"kettle","desired_price":100,"max_days":1}""", invoker);
        Assert.Equal(("Price.TooHigh", "still 150"), (execution.Error, execution.Cause));
    }

    [Fact]
    public async Task Variables_hold_any_JSON_value_and_are_referenced_with_a_dollar_sign()
    {
        // "Assign": {"productName": "product1", "count": 42, "available": true}; "reference a variable: $productName".
        var output = await Output("""
            {"QueryLanguage":"JSONata","StartAt":"Set","States":{
              "Set":{"Type":"Pass","Assign":{"productName":"product1","count":42,"available":true},"Next":"Use"},
              "Use":{"Type":"Pass","Output":"{% $productName & ': ' & $string($count) & ($available ? ' in stock' : ' sold out') %}","End":true}}}
            """);
        JsonEqual("\"product1: 42 in stock\"", output);
    }

    [Fact]
    public async Task The_guides_conversion_example_reads_customerName_in_both_query_languages()
    {
        // JSONPath "name.$": "$customerName" is JSONata "name": "{% $customerName %}"; a plain "$customerName" stays literal.
        string? jsonata = null, jsonPath = null;
        var invoker = Functions().Add("f", p => { if (jsonata is null) { jsonata = p; } else { jsonPath = p; } return "{}"; });
        await Output("""
            {"QueryLanguage":"JSONata","StartAt":"Name","States":{
              "Name":{"Type":"Pass","Assign":{"customerName":"Jane Doe"},"Next":"S"},
              "S":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f",
                   "Arguments":{"static":"Hello","title":"{% $states.input.title %}","name":"{% $customerName %}","not-evaluated":"$customerName"},"End":true}}}
            """, """{"title":"Doctor"}""", invoker);
        await Output("""
            {"StartAt":"Name","States":{
              "Name":{"Type":"Pass","Assign":{"customerName":"Jane Doe"},"Next":"S"},
              "S":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f",
                   "Parameters":{"static":"Hello","title.$":"$.title","name.$":"$customerName","not-evaluated":"$customerName"},"End":true}}}
            """, """{"title":"Doctor"}""", invoker);
        JsonEqual("""{"static":"Hello","title":"Doctor","name":"Jane Doe","not-evaluated":"$customerName"}""", JsonNode.Parse(jsonata!));
        JsonEqual(jsonPath!, JsonNode.Parse(jsonata!));
    }
}
