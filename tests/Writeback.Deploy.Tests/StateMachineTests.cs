using System.Text.Json.Nodes;

namespace Writeback.Deploy.Tests;

public sealed class StateMachineTests
{
    public static TheoryData<string> Definitions()
    {
        var data = new TheoryData<string>();
        foreach (var file in AslDefinition.Files())
        {
            data.Add(Path.GetRelativePath(Repo.Root, file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Definitions))]
    public void Every_definition_passes_asl_validator(string definition)
    {
        var validator = Repo.NodeModule(Path.Combine("asl-validator", "dist", "bin", "asl-validator.js"));
        var result = Repo.Run("node", [validator, "--json-path", definition],
            "Install Node.js 20+ (apt-get install nodejs npm), then run scripts/test-prerequisites.sh.");
        Assert.True(result.ExitCode == 0, $"asl-validator rejected {definition}:\n{result.Output}");
    }

    /// <summary>
    /// Errors after which running an idempotent step again is safe and likely to succeed: our own transient failures,
    /// a crashed or killed writer (Lambda.Unknown), a sandbox that hit its timeout (Sandbox.Timedout), and the Lambda
    /// service's own errors and throttling.
    /// </summary>
    private static readonly string[] RetriableForIdempotentSteps =
    [
        "Writeback.Transient", "Lambda.Unknown", "Sandbox.Timedout",
        "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException",
    ];

    /// <summary>Task states that are not safe to run twice, with the reason; every step is idempotent (DESIGN.md invariant 2).</summary>
    private static readonly Dictionary<string, string> NonIdempotentTasks = [];

    [Theory]
    [MemberData(nameof(Definitions))]
    public void Every_idempotent_task_retries_transient_crashed_timed_out_and_lambda_service_errors(string definition)
    {
        var machine = AslDefinition.Load(Repo.PathOf(definition.Split('/')));
        var tasks = AslDefinition.States(machine).Where(s => (string?)s.State["Type"] == "Task" && !NonIdempotentTasks.ContainsKey(s.Name)).ToList();
        Assert.NotEmpty(tasks);
        foreach (var (name, state) in tasks)
        {
            var covered = (state["Retry"] as JsonArray ?? [])
                .OfType<JsonObject>()
                .Where(r => r["MaxAttempts"] is not JsonValue attempts || (int)attempts > 0)
                .SelectMany(r => (r["ErrorEquals"] as JsonArray ?? []).Select(e => (string?)e))
                .ToHashSet(StringComparer.Ordinal);
            // A States.ALL retrier matches every one of these names.
            var missing = covered.Contains("States.ALL") ? [] : RetriableForIdempotentSteps.Where(e => !covered.Contains(e)).ToList();
            Assert.True(missing.Count == 0, $"{definition}: state '{name}' does not retry {string.Join(", ", missing)}");
        }
    }
}
