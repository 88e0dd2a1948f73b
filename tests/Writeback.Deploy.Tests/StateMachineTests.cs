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
}
