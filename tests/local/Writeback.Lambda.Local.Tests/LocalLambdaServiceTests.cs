using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Writeback.StepFunctions;

namespace Writeback.Lambda.Local.Tests;

/// <summary>The Invoke API as a caller meets it, answered by real processes speaking the Runtime API.</summary>
public sealed class LocalLambdaServiceTests : IAsyncLifetime
{
    private static readonly string TestFunction = typeof(LocalLambdaServiceTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestFunction").Value!;

    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _folder = Directory.CreateTempSubdirectory("writeback-lambda-local-").FullName;
    private readonly List<string> _log = [];
    private LocalLambdaService _service = null!;
    private LambdaInvokeClient _client = null!;

    public async Task InitializeAsync()
    {
        _service = await LocalLambdaService.StartAsync(
            [
                Function("echo", "echo", reserved: 1) with { MemorySizeMb = 512, Environment = new Dictionary<string, string> { ["GIVEN"] = "by the template" } },
                Function("fail", "fail"),
                Function("exit", "exit"),
                Function("hang", "hang", timeout: TimeSpan.FromSeconds(1)),
                Function("init-fails", "init-fails"),
            ],
            log: line =>
            {
                lock (_log)
                {
                    _log.Add(line);
                }
            });
        _client = new LambdaInvokeClient(_http, _service.Endpoint);
    }

    public async Task DisposeAsync()
    {
        await _service.DisposeAsync();
        _http.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static LocalFunction Function(string name, string handler, int? reserved = null, TimeSpan? timeout = null) => new()
    {
        Name = name,
        Handler = handler,
        Code = FunctionCode.JitHost(TestFunction),
        Timeout = timeout ?? TimeSpan.FromSeconds(60),
        ReservedConcurrency = reserved,
    };

    private async Task<HttpResponseMessage> InvokeAsync(string function, string payload, string? traceId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_service.Endpoint, $"2015-03-31/functions/{function}/invocations"))
        {
            Content = new StringContent(payload, Encoding.UTF8, "application/json"),
        };
        if (traceId is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Amzn-Trace-Id", traceId);
        }

        return await _http.SendAsync(request);
    }

    [Fact]
    public async Task A_function_answers_with_its_response_and_sees_the_runtime_api_headers_and_lambdas_variables()
    {
        // A clean environment: what the service's own process has is not what the function gets.
        var own = Environment.GetEnvironmentVariable("WRITEBACK_PG");
        Environment.SetEnvironmentVariable("WRITEBACK_PG", "Host=not-for-functions");
        using var response = await InvokeAsync("echo", """{"hello":"world"}""", traceId: "Root=1-5759e988-bd862e3fe1be46a994272793");
        Environment.SetEnvironmentVariable("WRITEBACK_PG", own);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Amz-Function-Error"));
        Assert.Equal("world", (string?)body["payload"]!["hello"]);
        Assert.True(Guid.TryParse((string?)body["requestId"], out _));
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse((string)body["deadlineMs"]!));
        Assert.True(deadline > DateTimeOffset.UtcNow, $"the deadline {deadline:O} is in the past");
        Assert.Equal("Root=1-5759e988-bd862e3fe1be46a994272793", (string?)body["traceId"]);
        var environment = body["environment"]!;
        Assert.Equal("echo", (string?)environment["AWS_LAMBDA_FUNCTION_NAME"]);
        Assert.Equal("echo", (string?)environment["_HANDLER"]);
        Assert.Equal("512", (string?)environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]);
        Assert.Equal("$LATEST", (string?)environment["AWS_LAMBDA_FUNCTION_VERSION"]);
        Assert.Equal(LocalLambdaService.Region, (string?)environment["AWS_REGION"]);
        Assert.Equal(Path.GetDirectoryName(TestFunction), (string?)environment["LAMBDA_TASK_ROOT"]);
        Assert.Equal("by the template", (string?)environment["GIVEN"]);
        Assert.Null((string?)environment["WRITEBACK_PG"]);
    }

    [Fact]
    public async Task A_second_invocation_runs_in_the_same_warm_process()
    {
        var first = JsonNode.Parse((await _client.InvokeAsync("echo", "{}", CancellationToken.None)).PayloadJson!)!;
        var second = JsonNode.Parse((await _client.InvokeAsync("echo", "{}", CancellationToken.None)).PayloadJson!)!;

        Assert.Equal((int)first["processId"]!, (int)second["processId"]!);
        Assert.NotEqual((string?)first["requestId"], (string?)second["requestId"]);
        Assert.Equal(1, _service.ColdStarts("echo"));
    }

    [Fact]
    public async Task A_handled_error_answers_200_with_X_Amz_Function_Error_and_becomes_the_states_error_name()
    {
        using var response = await InvokeAsync("fail", "{}");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var result = await _client.InvokeAsync("fail", "{}", CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Unhandled", response.Headers.GetValues("X-Amz-Function-Error").Single());
        Assert.Equal("Writeback.Transient", (string?)body["errorType"]);
        Assert.Equal("told to fail", (string?)body["errorMessage"]);
        Assert.Equal("Writeback.Transient", result.ErrorType);
        Assert.Contains("told to fail", result.ErrorMessage, StringComparison.Ordinal);
        // An error posted by the runtime leaves the environment warm.
        Assert.Equal(1, _service.ColdStarts("fail"));
    }

    [Fact]
    public async Task A_process_that_exits_mid_invocation_is_Runtime_ExitError_and_the_engine_sees_Lambda_Unknown()
    {
        using var response = await InvokeAsync("exit", "{}");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var result = await _client.InvokeAsync("exit", "{}", CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Unhandled", response.Headers.GetValues("X-Amz-Function-Error").Single());
        Assert.Equal("Runtime.ExitError", (string?)body["errorType"]);
        Assert.Contains("Runtime exited with error: exit status 3", (string?)body["errorMessage"], StringComparison.Ordinal);
        Assert.Equal("Lambda.Unknown", result.ErrorType);
        Assert.Contains("Runtime.ExitError", result.ErrorMessage, StringComparison.Ordinal);
        // A dead environment is never reused: the second call was a cold start of its own.
        Assert.Equal(2, _service.ColdStarts("exit"));
    }

    [Fact]
    public async Task A_process_killed_by_a_signal_is_reported_with_the_signals_name_and_replaced()
    {
        var held = Path.Combine(_folder, "release-kill");
        var call = _client.InvokeAsync("echo", new JsonObject { ["waitFor"] = held }.ToJsonString(), CancellationToken.None);
        var running = await RunningAsync("echo", call);
        using (var process = Process.GetProcessById(running.ProcessId))
        {
            process.Kill();
        }

        var result = await call;
        var after = JsonNode.Parse((await _client.InvokeAsync("echo", "{}", CancellationToken.None)).PayloadJson!)!;

        Assert.Equal("Lambda.Unknown", result.ErrorType);
        Assert.Contains("signal: killed", result.ErrorMessage, StringComparison.Ordinal);
        Assert.NotEqual(running.ProcessId, (int)after["processId"]!);
    }

    [Fact]
    public async Task An_invocation_over_the_functions_timeout_kills_the_process_and_answers_Sandbox_Timedout()
    {
        var result = await _client.InvokeAsync("hang", "{}", CancellationToken.None);
        using var response = await InvokeAsync("hang", "{}");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal("Sandbox.Timedout", result.ErrorType);
        Assert.Equal("Unhandled", response.Headers.GetValues("X-Amz-Function-Error").Single());
        Assert.Equal("Sandbox.Timedout", (string?)body["errorType"]);
        Assert.EndsWith("Task timed out after 1.00 seconds", (string?)body["errorMessage"], StringComparison.Ordinal);
        Assert.Equal(2, _service.ColdStarts("hang"));
        Assert.Empty(_service.Running);
    }

    [Fact]
    public async Task A_failed_init_answers_with_the_runtimes_init_error()
    {
        var result = await _client.InvokeAsync("init-fails", "{}", CancellationToken.None);

        Assert.Equal("Runtime.InitFailed", result.ErrorType);
        Assert.Contains("the configuration this function needs is missing", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invocations_beyond_the_reserved_concurrency_are_throttled_with_429()
    {
        var held = Path.Combine(_folder, "release-throttle");
        var first = _client.InvokeAsync("echo", new JsonObject { ["waitFor"] = held }.ToJsonString(), CancellationToken.None);
        await RunningAsync("echo", first);

        using var throttled = await InvokeAsync("echo", "{}");
        var result = await _client.InvokeAsync("echo", "{}", CancellationToken.None);
        await File.WriteAllTextAsync(held, "");
        var released = await first;

        Assert.Equal((HttpStatusCode)429, throttled.StatusCode);
        Assert.Equal("TooManyRequestsException", throttled.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Equal("Lambda.TooManyRequestsException", result.ErrorType);
        Assert.False(released.IsError, released.ErrorMessage);
    }

    [Fact]
    public async Task An_unknown_function_is_ResourceNotFoundException()
    {
        using var response = await InvokeAsync("nobody", "{}");
        var result = await _client.InvokeAsync("arn:aws:lambda:us-east-1:000000000000:function:nobody", "{}", CancellationToken.None);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Lambda.ResourceNotFoundException", result.ErrorType);
    }

    [Fact]
    public async Task The_aws_cli_invokes_a_local_function_and_reads_its_response_and_its_function_error()
    {
        var output = Path.Combine(_folder, "out.json");

        var ok = await AwsCliAsync("lambda", "invoke", "--function-name", "echo", "--payload", """{"from":"cli"}""", output);
        var answer = JsonNode.Parse(await File.ReadAllTextAsync(output))!;
        var failed = await AwsCliAsync("lambda", "invoke", "--function-name", "fail", "--payload", "{}", output);
        var error = JsonNode.Parse(await File.ReadAllTextAsync(output))!;

        Assert.Equal(200, (int)JsonNode.Parse(ok)!["StatusCode"]!);
        Assert.Equal("cli", (string?)answer["payload"]!["from"]);
        Assert.Equal("Unhandled", (string?)JsonNode.Parse(failed)!["FunctionError"]);
        Assert.Equal("Writeback.Transient", (string?)error["errorType"]);
    }

    private async Task<string> AwsCliAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("aws") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments.Concat(["--endpoint-url", _service.Endpoint.ToString(), "--region", LocalLambdaService.Region]))
        {
            start.ArgumentList.Add(argument);
        }

        // The CLI signs every request; the local service accepts any key.
        start.Environment["AWS_ACCESS_KEY_ID"] = "local";
        start.Environment["AWS_SECRET_ACCESS_KEY"] = "local";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("the AWS CLI (aws) is not installed");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"aws {string.Join(' ', arguments)} exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }

    /// <summary>The invocation once its process has taken it; fails the test if the call ends first.</summary>
    private async Task<RunningInvocation> RunningAsync(string function, Task call)
    {
        while (true)
        {
            if (_service.Running.FirstOrDefault(r => r.FunctionName == function) is { } running)
            {
                return running;
            }

            Assert.False(call.IsCompleted, $"the invocation ended before it was seen running: {string.Join('\n', _log)}");
            await Task.Delay(20);
        }
    }
}
