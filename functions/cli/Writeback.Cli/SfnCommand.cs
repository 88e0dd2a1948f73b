using System.CommandLine;
using System.Text.Json.Nodes;
using Writeback.Core.Storage;
using Writeback.StepFunctions;

namespace Writeback.Cli;

/// <summary>
/// <c>writeback sfn run</c>: runs an ASL definition (the very file SAM deploys) on the local engine. Stdout carries
/// only the execution's output (exit 0) or <c>{"error","cause"}</c> (exit 1); an invalid definition exits 2.
/// </summary>
internal static class SfnCommand
{
    private const int Succeeded = 0;
    private const int Failed = 1;
    private const int Invalid = 2;

    public static Command Create()
    {
        var sfn = new Command("sfn", "Run Step Functions state machines (statemachines/*.asl.json) on the local engine.");
        sfn.Subcommands.Add(CreateRun());
        return sfn;
    }

    private static Command CreateRun()
    {
        var definition = new Argument<string>("definition") { Description = "The ASL definition file, e.g. statemachines/writeback.asl.json." };
        var input = new Option<string?>("--input") { Description = "The execution input: JSON text, or @FILE to read it from a file." };
        var inputFile = new Option<string?>("--input-file") { Description = "Read the execution input from this file (the same as --input @FILE)." };
        var mockConfig = new Option<string?>("--mock-config") { Description = "A Step Functions Local MockConfigFile; needs --test-case." };
        var testCase = new Option<string?>("--test-case") { Description = "The test case in --mock-config to run." };
        var history = new Option<bool>("--history") { Description = "Print the execution history (GetExecutionHistory JSON) to stderr." };
        var historyFile = new Option<string?>("--history-file") { Description = "Write the execution history to this file instead of stderr." };
        var machineName = new Option<string?>("--state-machine-name") { Description = "The state machine's name (the mock file's key); default: the file name without .asl.json." };
        var executionName = new Option<string?>("--execution-name") { Description = "The execution's name (1-80 of [0-9A-Za-z_-]); default: a UUID." };
        var virtualTime = new Option<bool>("--virtual-time") { Description = "Let Wait states and retry intervals pass instantly (timestamps still advance)." };
        var s3Root = new Option<string?>("--s3-root") { Description = "The folder standing in for S3 in a Distributed Map's ItemReader and ResultWriter: s3://bucket/key is DIR/bucket/key; default .writeback/s3." };
        var command = new Command("run", "Run one execution and print its output (exit 0), its error (exit 1), or the definition's errors (exit 2).");
        command.Arguments.Add(definition);
        foreach (var option in new Option[] { input, inputFile, mockConfig, testCase, history, historyFile, machineName, executionName, virtualTime, s3Root })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (ParseResult parse, CancellationToken ct) => await RunAsync(new RunRequest(
            parse.GetValue(definition)!,
            parse.GetValue(inputFile) is { } path ? "@" + path : parse.GetValue(input),
            parse.GetValue(mockConfig),
            parse.GetValue(testCase),
            parse.GetValue(history),
            parse.GetValue(historyFile),
            parse.GetValue(machineName),
            parse.GetValue(executionName),
            parse.GetValue(virtualTime),
            parse.GetValue(s3Root)), ct));
        return command;
    }

    private sealed record RunRequest(
        string Definition, string? Input, string? MockConfig, string? TestCase, bool History, string? HistoryFile,
        string? StateMachineName, string? ExecutionName, bool VirtualTime, string? S3Root);

    private static async Task<int> RunAsync(RunRequest request, CancellationToken ct)
    {
        if (!File.Exists(request.Definition))
        {
            await Console.Error.WriteLineAsync($"sfn run: definition file not found: {request.Definition}");
            return Invalid;
        }

        if ((request.MockConfig is null) != (request.TestCase is null))
        {
            await Console.Error.WriteLineAsync("sfn run: --mock-config and --test-case go together.");
            return Invalid;
        }

        if (request.Input is null)
        {
            await Console.Error.WriteLineAsync("sfn run: give the execution input with --input JSON, --input @FILE or --input-file FILE.");
            return Invalid;
        }

        string inputJson;
        try
        {
            inputJson = request.Input.StartsWith('@') ? await File.ReadAllTextAsync(request.Input[1..], ct) : request.Input;
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"sfn run: cannot read the input: {e.Message}");
            return Invalid;
        }

        var root = RepoRoot(request.Definition);
        var (substitutions, sources) = SfnSubstitutions.Resolve(root, request.Definition);
        var text = DefinitionSubstitutions.Apply(await File.ReadAllTextAsync(request.Definition, ct), substitutions);
        var errors = StateMachineDefinition.Validate(text);
        if (errors.Count > 0)
        {
            await Console.Error.WriteLineAsync($"sfn run: {request.Definition} is not a valid state machine:");
            foreach (var error in errors)
            {
                await Console.Error.WriteLineAsync("  " + error);
            }

            return Invalid;
        }

        var name = request.StateMachineName ?? StateMachineName(request.Definition);
        MockTestCase? mocks = null;
        if (request.MockConfig is not null)
        {
            try
            {
                mocks = StepFunctions.MockConfig.Parse(await File.ReadAllTextAsync(request.MockConfig, ct)).TestCase(name, request.TestCase!);
            }
            catch (Exception e) when (e is IOException or FormatException or KeyNotFoundException or System.Text.Json.JsonException)
            {
                await Console.Error.WriteLineAsync($"sfn run: mock config: {e.Message}");
                return Invalid;
            }
        }

        // The handlers write to WRITEBACK_PG: an unreachable server is said once now, not as a Task failure after every
        // retry. A definition without Task states, or with every Task mocked, reaches no database and needs none.
        string? connectionString = null;
        if (mocks is null && HasTaskStates(JsonNode.Parse(text))
            && (connectionString = await CliDatabase.RequireAsync("sfn run", ct)) is null)
        {
            return Invalid;
        }

        // Said after the database check, which may end this process for the script to start the server and run it again.
        foreach (var source in sources)
        {
            await Console.Error.WriteLineAsync($"sfn run: substitutions from {source}");
        }

        var invoker = new SfnLocalInvoker(LocalFunctions.Create(
            connectionString,
            // The steps read batches only from the project's export folder, as under `serve` and `demo`.
            SourcePolicy.LocalFolder(Local.ProjectPaths.Exports(Path.Combine(root, ".writeback")))), TimeSpan.FromMinutes(15));
        var engine = new StepFunctionsEngine(new StepFunctionsEngineOptions
        {
            LambdaInvoker = invoker,
            TimeProvider = request.VirtualTime ? new VirtualClock(DateTimeOffset.UtcNow) : TimeProvider.System,
            LocalS3Root = Path.GetFullPath(request.S3Root ?? Local.ProjectPaths.LocalS3(Path.Combine(root, ".writeback"))),
        });
        var machine = engine.CreateStateMachine(name, text);
        Execution execution;
        try
        {
            execution = engine.StartExecution(machine, inputJson, request.ExecutionName, mocks);
        }
        catch (StepFunctionsApiException e)
        {
            await Console.Error.WriteLineAsync($"sfn run: {e.ErrorCode}: {e.Message}");
            return Invalid;
        }

        await Console.Error.WriteLineAsync($"sfn run: started {execution.Arn}{(mocks is null ? "" : $" (test case {request.TestCase})")}");
        using (ct.Register(() => execution.Stop("Cli.Cancelled", "The run was interrupted.")))
        {
            await execution.Completion;
        }

        var elapsed = (execution.StopDate ?? execution.StartDate) - execution.StartDate;
        await Console.Error.WriteLineAsync($"sfn run: {execution.StatusName} after {elapsed.TotalSeconds:0.###}s, {execution.History.Count} history events");
        if (request.History || request.HistoryFile is not null)
        {
            var history = Json.ToIndentedString(HistoryEvent.ToJson(execution.History));
            if (request.HistoryFile is not null)
            {
                await File.WriteAllTextAsync(request.HistoryFile, history + Environment.NewLine, ct);
                await Console.Error.WriteLineAsync($"sfn run: history written to {request.HistoryFile}");
            }
            else
            {
                await Console.Error.WriteLineAsync(history);
            }
        }

        if (execution.Status == ExecutionStatus.Succeeded)
        {
            await Console.Out.WriteLineAsync(execution.OutputJson);
            return Succeeded;
        }

        await Console.Out.WriteLineAsync(new JsonObject { ["error"] = execution.Error, ["cause"] = execution.Cause }.ToJsonString());
        return Failed;
    }

    /// <summary>"writeback" for statemachines/writeback.asl.json: the name the mock file's StateMachines key uses.</summary>
    private static string StateMachineName(string path)
    {
        var file = Path.GetFileName(path);
        foreach (var suffix in new[] { ".asl.json", ".json" })
        {
            if (file.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return file[..^suffix.Length];
            }
        }

        return file;
    }

    /// <summary>WRITEBACK_ROOT (set by ./writeback), else the nearest directory above the definition with template.yaml or serverless.sln.</summary>
    private static string RepoRoot(string definitionPath)
    {
        var configured = Environment.GetEnvironmentVariable("WRITEBACK_ROOT");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(definitionPath))!); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "template.yaml")) || File.Exists(Path.Combine(dir.FullName, "serverless.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    /// <summary>Whether any state, at any depth (Parallel branches, Map processors), is a Task.</summary>
    private static bool HasTaskStates(JsonNode? node) => node switch
    {
        JsonObject o => (o["Type"] is JsonValue type && type.TryGetValue<string>(out var t) && t == "Task") || o.Any(p => HasTaskStates(p.Value)),
        JsonArray a => a.Any(HasTaskStates),
        _ => false,
    };
}
