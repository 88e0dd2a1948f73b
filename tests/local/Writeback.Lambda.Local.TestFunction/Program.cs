using System.Globalization;
using System.Text.Json.Nodes;
using Writeback.Functions;
using Writeback.Lambda.Runtime;

return await LambdaBootstrap.RunAsync(
    args,
    () => ["echo", "fail", "exit", "hang", "init-fails"],
    _ => [new Echo(), new Fail(), new Exit(), new Hang(), new InitFails()]);

/// <summary>Answers with what the process was told: the event, the invocation's context and Lambda's variables.</summary>
internal sealed class Echo : IFunctionHandler
{
    private static readonly string[] Variables =
        ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_REGION", "LAMBDA_TASK_ROOT", "_HANDLER", "_X_AMZN_TRACE_ID", "GIVEN", "WRITEBACK_PG"];

    public string Name => "echo";

    public async Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken)
    {
        var payload = JsonNode.Parse(payloadJson);
        // Held until the test creates the file: an invocation the test keeps busy without a clock.
        if (payload?["waitFor"]?.GetValue<string>() is { } file)
        {
            while (!File.Exists(file))
            {
                await Task.Delay(20, CancellationToken.None);
            }
        }

        var environment = new JsonObject();
        foreach (var name in Variables)
        {
            environment[name] = Environment.GetEnvironmentVariable(name);
        }

        return new JsonObject
        {
            ["payload"] = payload,
            ["requestId"] = context.RequestId,
            ["deadlineMs"] = context.Deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["traceId"] = context.TraceId,
            ["processId"] = Environment.ProcessId,
            ["environment"] = environment,
        }.ToJsonString();
    }
}

internal sealed class Fail : IFunctionHandler
{
    public string Name => "fail";

    public Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken) =>
        throw new FunctionException("Writeback.Transient", "told to fail");
}

/// <summary>Dies in the middle of the invocation, as a process does when it runs out of memory or is killed.</summary>
internal sealed class Exit : IFunctionHandler
{
    public string Name => "exit";

    public Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken)
    {
        Environment.Exit(3);
        return Task.FromResult("{}");
    }
}

/// <summary>Ignores its deadline: only the service's timeout can end it.</summary>
internal sealed class Hang : IFunctionHandler
{
    public string Name => "hang";

    public async Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, CancellationToken.None);
        return "{}";
    }
}

/// <summary>Selected by _HANDLER, it fails while being created: an init error.</summary>
internal sealed class InitFails : IFunctionHandler
{
    public InitFails()
    {
        if (Environment.GetEnvironmentVariable("_HANDLER") == "init-fails")
        {
            throw new InvalidOperationException("the configuration this function needs is missing");
        }
    }

    public string Name => "init-fails";

    public Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken) => Task.FromResult("{}");
}
