using System.Diagnostics;
using System.Text.Json.Nodes;
using Npgsql;
using Writeback.Aggregate.Export;
using Writeback.Cli.Local;
using Writeback.Cli.Tests.Faults;
using Writeback.StepFunctions;
using Writeback.Testing;
using Xunit.Abstractions;

namespace Writeback.Cli.Tests.Lambda;

/// <summary>
/// The workflow with its functions as real processes behind the local Lambda Invoke API: the writers' bootstrap as
/// Native AOT, so an AOT or trimming regression fails here. The end state is compared with the crash suite's fault-free,
/// in-process runs of the same batches.
/// </summary>
public sealed class ProcessWorkflowTests(CrashSuite suite, NativeWriters aot, ITestOutputHelper output)
    : IClassFixture<CrashSuite>, IClassFixture<NativeWriters>
{
    /// <summary>statemachines/writeback.asl.json with template.yaml's substitutions, as SAM deploys it.</summary>
    internal static readonly Lazy<string> Definition = new(() =>
    {
        var (substitutions, _) = SfnSubstitutions.Resolve(ProjectPaths.Root, ProjectPaths.WorkflowDefinition);
        return DefinitionSubstitutions.Apply(File.ReadAllText(ProjectPaths.WorkflowDefinition), substitutions);
    });

    internal static Execution Start(LocalLambda lambda, ExportedBatch batch)
    {
        var engine = new StepFunctionsEngine(new StepFunctionsEngineOptions { LambdaInvoker = lambda.Invoker });
        return engine.StartExecution(engine.CreateStateMachine("writeback", Definition.Value), Workflow.Input(batch), batch.Manifest.BatchId);
    }

    [PrivatePostgresFact]
    public async Task The_native_aot_bootstrap_runs_a_real_batch_through_every_step_to_the_same_end_as_in_process()
    {
        var database = await suite.CreateDatabaseAsync("aot");
        try
        {
            var log = new List<string>();
            await using var lambda = await LocalLambda.StartAsync(LambdaMode.ArtifactProcesses, database, suite.Exports, aot.Folder, l => { lock (log) { log.Add(l); } });
            var first = Start(lambda, suite.BatchA);
            await first.Completion.WaitAsync(TimeSpan.FromMinutes(5));
            Assert.True(first.Status == ExecutionStatus.Succeeded, $"{first.StatusName}: {first.Error}: {first.Cause}\n{string.Join('\n', log.TakeLast(40))}");
            Assert.Equal(suite.DigestA, await CrashSuite.DayDigestAsync(database));
            var second = Start(lambda, suite.BatchB);
            await second.Completion.WaitAsync(TimeSpan.FromMinutes(5));

            Assert.True(second.Status == ExecutionStatus.Succeeded, $"{second.StatusName}: {second.Error}: {second.Cause}");
            Assert.Equal(suite.ExpectedRows, await CrashSuite.RowHashesAsync(database));
            // Every step ran in the AOT binary: the service started its bootstrap, not the JIT build.
            Assert.All(new[] { "writeback-prepare", "writeback-load-shard", "writeback-verify", "writeback-publish", "writeback-cleanup" },
                f => Assert.True(lambda.Service!.ColdStarts(f) > 0, $"{f} never started"));
            Assert.StartsWith("Native AOT bootstrap", lambda.Description[(lambda.Description.IndexOf("processes: ", StringComparison.Ordinal) + 11)..], StringComparison.Ordinal);
            Report($"native AOT writers: publish {aot.BuildTime.TotalSeconds:N0} s; batch A {Steps(first)}; batch B {Steps(second)}");
        }
        finally
        {
            await suite.DropDatabaseAsync(database);
        }
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("WRITEBACK_TEST_RESULTS") is { Length: > 0 } folder)
        {
            File.AppendAllText(Path.Combine(folder, "process-workflow.txt"), line + Environment.NewLine);
        }
    }

    private static string Steps(Execution execution) =>
        string.Join(", ", ExecutionReport.Steps(execution).Select(s => $"{s.State} {s.Duration.TotalMilliseconds:N0} ms"));
}

/// <summary>
/// The writers' Native AOT bootstrap, published once per test run (never reused across runs, so nothing cached can hide
/// a regression) with the deploy script's flags, and laid out as the artifact is: bootstrap plus targets/.
/// </summary>
public sealed class NativeWriters : IAsyncLifetime
{
    private string? _folder;

    public string Folder => _folder ?? throw new InvalidOperationException("not published");

    public TimeSpan BuildTime { get; private set; }

    public async Task InitializeAsync()
    {
        if (PrivatePostgres.Unavailable is not null)
        {
            return;
        }

        _folder = Directory.CreateTempSubdirectory("writeback-aot-writers-").FullName;
        var clock = Stopwatch.StartNew();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            "publish", Path.Combine(ProjectPaths.Root, "functions", "aws", "Writeback.Writers.Host", "Writeback.Writers.Host.csproj"),
            "-c", "Release", "-r", "linux-x64", "-o", _folder, "--nologo",
            // No MSBuild nodes or compiler server outlive the publish: nothing of it lingers among the test's processes.
            "--disable-build-servers",
            "-p:TreatWarningsAsErrors=true", "-p:IlcTreatWarningsAsErrors=false", "-p:TrimmerSingleWarn=false",
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        BuildTime = clock.Elapsed;
        if (process.ExitCode != 0)
        {
            // Native AOT needs clang and zlib1g-dev (scripts/test-prerequisites.sh installs them); anything else is a regression.
            throw new InvalidOperationException($"the Native AOT publish of the writers failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }

        CopyFolder(ProjectPaths.Targets, Path.Combine(_folder, "targets"));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    public Task DisposeAsync()
    {
        if (_folder is not null)
        {
            Directory.Delete(_folder, recursive: true);
        }

        return Task.CompletedTask;
    }
}
