using System.Diagnostics;
using System.Text.Json.Nodes;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>
/// <c>writeback sfn run</c> as a user runs it: stdout carries only the output or the error JSON, the exit code says
/// SUCCEEDED (0), FAILED (1) or invalid definition (2). Runs the CLI the solution build produced.
/// </summary>
public sealed class SfnRunCliTests
{
    private static async Task<(int ExitCode, string Stdout, string Stderr)> Sfn(params string[] args)
    {
        var root = RepoRoot();
        // Same configuration as this test assembly (bin/<Configuration>/net10.0).
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var cli = Path.Combine(root, "functions", "cli", "Writeback.Cli", "bin", configuration, "net10.0", "writeback.dll");
        Assert.True(File.Exists(cli), $"{cli} is missing: build serverless.sln first (./writeback test does).");
        var start = new ProcessStartInfo("dotnet", [cli, "sfn", "run", .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        start.Environment.Remove("WRITEBACK_PG");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string[] Mocked(string testCase) =>
    [
        "statemachines/writeback.asl.json", "--input", """{"manifestUri":"file:///tmp/m.json"}""",
        "--mock-config", "tests/local/Writeback.StepFunctions.Tests/mocks/writeback.mock.json", "--test-case", testCase, "--virtual-time",
    ];

    [Fact]
    public async Task A_SUCCEEDED_execution_prints_only_its_output_and_exits_0()
    {
        var (code, stdout, stderr) = await Sfn(Mocked("HappyPath"));
        Assert.True(code == 0, stderr);
        Assert.Equal("applied", JsonNode.Parse(stdout)!["published"]!["status"]!.GetValue<string>());
        Assert.Contains("SUCCEEDED", stderr);
    }

    [Fact]
    public async Task A_FAILED_execution_prints_error_and_cause_and_exits_1()
    {
        var (code, stdout, stderr) = await Sfn(Mocked("PoisonShard"));
        Assert.True(code == 1, stderr);
        JsonEqual("""{"error":"Writeback.InvalidBatch","cause":"shard 1: column amount is not numeric"}""", JsonNode.Parse(stdout));
    }

    [Fact]
    public async Task An_invalid_definition_exits_2_with_the_errors_on_stderr_and_nothing_on_stdout()
    {
        var file = Path.Combine(Path.GetTempPath(), $"invalid-{Guid.NewGuid():N}.asl.json");
        await File.WriteAllTextAsync(file, """{"StartAt":"A","States":{"A":{"Type":"Pass"}}}""");
        try
        {
            var (code, stdout, stderr) = await Sfn(file, "--input", "{}");
            Assert.Equal(2, code);
            Assert.Equal("", stdout);
            Assert.Contains("State 'A': missing Next", stderr);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task History_goes_to_stderr_so_stdout_stays_parseable()
    {
        var (code, stdout, stderr) = await Sfn([.. Mocked("AlreadyApplied"), "--history"]);
        Assert.True(code == 0, stderr);
        Assert.Equal("applied", JsonNode.Parse(stdout)!["action"]!.GetValue<string>());
        Assert.Contains("\"ExecutionSucceeded\"", stderr);
    }

    // `--input @FILE` needs the root parser's response-file expansion turned off (Program.cs); --input-file always works.
    [Fact]
    public async Task Input_can_come_from_a_file()
    {
        var file = Path.Combine(Path.GetTempPath(), $"input-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """{"manifestUri":"file:///tmp/m.json"}""");
        try
        {
            var args = Mocked("OlderBatch");
            args[1] = "--input-file";
            args[2] = file;
            var (code, stdout, stderr) = await Sfn(args);
            Assert.True(code == 0, stderr);
            Assert.Equal("skip", JsonNode.Parse(stdout)!["action"]!.GetValue<string>());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_JSONata_definition_runs_and_prints_its_Output()
    {
        var file = Path.Combine(Path.GetTempPath(), $"jsonata-{Guid.NewGuid():N}.asl.json");
        await File.WriteAllTextAsync(file, """
            {"QueryLanguage":"JSONata","StartAt":"Sum","States":{
              "Sum":{"Type":"Pass","Output":{"total":"{% $sum($states.input.xs) %}","name":"{% $states.context.Execution.Name %}"},"End":true}}}
            """);
        try
        {
            var (code, stdout, stderr) = await Sfn(file, "--input", """{"xs":[1,2,3]}""", "--execution-name", "run-1");
            Assert.True(code == 0, stderr);
            JsonEqual("""{"total":6,"name":"run-1"}""", JsonNode.Parse(stdout));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task An_Assign_definition_runs_with_mocked_responses_and_prints_what_its_variables_built()
    {
        var dir = Directory.CreateTempSubdirectory("sfn-assign-");
        try
        {
            var definition = Path.Combine(dir.FullName, "price-watcher.asl.json");
            await File.WriteAllTextAsync(definition, VariablesGuideExamplesTests.PriceWatcher);
            var mocks = Path.Combine(dir.FullName, "mocks.json");
            await File.WriteAllTextAsync(mocks, """
                {"StateMachines":{"price-watcher":{"TestCases":{"PriceDrops":{"Get Current Price":"Prices"}}}},
                 "MockedResponses":{"Prices":{
                   "0":{"Return":{"StatusCode":200,"Payload":{"current_price":120}}},
                   "1":{"Return":{"StatusCode":200,"Payload":{"current_price":90}}}}}}
                """);
            var (code, stdout, stderr) = await Sfn(definition, "--input", """{"product":"kettle","desired_price":100,"max_days":5}""",
                "--mock-config", mocks, "--test-case", "PriceDrops", "--virtual-time");
            Assert.True(code == 0, stderr);
            JsonEqual("""{"product":"kettle","price":90,"daysLeft":4}""", JsonNode.Parse(stdout));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_Distributed_Map_reads_its_items_from_the_s3_folder_and_writes_its_results_beside_them()
    {
        var dir = Directory.CreateTempSubdirectory("sfn-distributed-");
        try
        {
            var s3 = Path.Combine(dir.FullName, "s3");
            Directory.CreateDirectory(Path.Combine(s3, "inputs", "orders"));
            await File.WriteAllTextAsync(Path.Combine(s3, "inputs", "orders", "day.jsonl"), "{\"id\":1,\"qty\":2}\n{\"id\":2,\"qty\":5}\n{\"id\":3,\"qty\":1}\n");
            var definition = Path.Combine(dir.FullName, "orders.asl.json");
            await File.WriteAllTextAsync(definition, """
                {"StartAt":"Each order","States":{"Each order":{"Type":"Map","End":true,
                  "ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL"},"Parameters":{"Bucket":"inputs","Key":"orders/day.jsonl"}},
                  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Double","States":{
                    "Double":{"Type":"Pass","Parameters":{"id.$":"$.id","qty.$":"States.MathAdd($.qty, $.qty)"},"End":true}}},
                  "ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"results","Prefix":"orders"}}}}}
                """);

            var (code, stdout, stderr) = await Sfn(definition, "--input", "{}", "--s3-root", s3);

            Assert.True(code == 0, stderr);
            var output = JsonNode.Parse(stdout)!;
            Assert.Equal("results", (string?)output["ResultWriterDetails"]!["Bucket"]);
            var manifestKey = (string)output["ResultWriterDetails"]!["Key"]!;
            var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(s3, "results", manifestKey)))!;
            var succeeded = manifest["ResultFiles"]!["SUCCEEDED"]!.AsArray().Single()!;
            var results = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(s3, "results", (string)succeeded["Key"]!)))!.AsArray();
            Assert.Equal([2L, 4L, 10L], results.Select(r => (long)JsonNode.Parse((string)r!["Output"]!)!["qty"]!).Order());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
