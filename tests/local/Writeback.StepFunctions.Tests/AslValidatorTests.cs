using System.Diagnostics;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>Every definition in statemachines/ passes the npm asl-validator (scripts/test-prerequisites.sh installs it).</summary>
public sealed class AslValidatorTests
{
    public static TheoryData<string> Definitions()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepoRoot(), "statemachines"), "*.asl.json").Order())
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Definitions))]
    public async Task Every_state_machine_passes_asl_validator(string file)
    {
        var root = RepoRoot();
        var validator = Path.Combine(root, "tests", "tools", "node_modules", ".bin", "asl-validator");
        Assert.True(File.Exists(validator), $"{validator} is missing: run scripts/test-prerequisites.sh (./writeback test does).");
        var start = new ProcessStartInfo(validator, ["--json-path", Path.Combine(root, "statemachines", file)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"asl-validator rejected {file}:\n{await stdout}\n{await stderr}");
    }

    [Fact]
    public void Every_state_machine_also_loads_in_the_local_engine_once_substituted()
    {
        var root = RepoRoot();
        var substitutions = DefinitionSubstitutions.ParseJson(File.ReadAllText(Path.Combine(root, "statemachines", "local-substitutions.json")));
        foreach (var file in Directory.GetFiles(Path.Combine(root, "statemachines"), "*.asl.json"))
        {
            var definition = DefinitionSubstitutions.Apply(File.ReadAllText(file), substitutions);
            Assert.Empty(StateMachineDefinition.Validate(definition));
        }
    }
}
