using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace Writeback.Deploy.Tests;

/// <summary>Every function in template.yaml points at an artifact that the build script makes from a host that exists.</summary>
public sealed class ArtifactTests
{
    /// <summary>Which host project builds which artifact (scripts/build-artifacts.sh does exactly this).</summary>
    private static readonly Dictionary<string, string> HostOfArtifact = new(StringComparer.Ordinal)
    {
        ["artifacts/writeback-writers.zip"] = "functions/aws/Writeback.Writers.Host/Writeback.Writers.Host.csproj",
        ["artifacts/writeback-trigger.zip"] = "functions/aws/Writeback.Trigger.Host/Writeback.Trigger.Host.csproj",
    };

    private static readonly CfnTemplate Template = CfnTemplate.Load(Repo.PathOf("template.yaml"));

    private static readonly string BuildScript = File.ReadAllText(Repo.PathOf("scripts", "build-artifacts.sh"));

    public static TheoryData<string> Hosts() => [.. HostOfArtifact.Values];

    [Fact]
    public void Every_function_code_uri_is_an_artifact_the_build_script_makes_from_a_host_project()
    {
        foreach (var (name, properties) in Template.ResourcesOfType("AWS::Serverless::Function"))
        {
            var codeUri = (string?)properties["CodeUri"];
            Assert.True(codeUri is not null && HostOfArtifact.ContainsKey(codeUri), $"{name}: CodeUri {codeUri} is not an artifact the build makes");
            var zip = Path.GetFileName(codeUri);
            Assert.Contains($"$out/{zip}", BuildScript, StringComparison.Ordinal);
            Assert.Contains(HostOfArtifact[codeUri], BuildScript, StringComparison.Ordinal);
            Assert.True(File.Exists(Repo.PathOf(HostOfArtifact[codeUri].Split('/'))), $"{HostOfArtifact[codeUri]} is missing");
        }
    }

    [Fact]
    public void The_build_script_is_valid_bash()
    {
        var result = Repo.Run("bash", ["-n", "scripts/build-artifacts.sh"], "Install bash.");
        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public void Every_host_is_a_native_aot_executable_named_bootstrap(string project)
    {
        var properties = XDocument.Load(Repo.PathOf(project.Split('/'))).Descendants("PropertyGroup").Elements()
            .ToDictionary(e => e.Name.LocalName, e => e.Value);
        Assert.Equal("Exe", properties.GetValueOrDefault("OutputType"));
        Assert.Equal("bootstrap", properties.GetValueOrDefault("AssemblyName"));
        Assert.Equal("true", properties.GetValueOrDefault("PublishAot"));
        Assert.Equal("true", properties.GetValueOrDefault("InvariantGlobalization"));
        Assert.Equal("true", properties.GetValueOrDefault("StripSymbols"));
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public void Every_host_is_in_the_solution_so_the_test_build_compiles_it_with_warnings_as_errors(string project)
    {
        var solution = File.ReadAllText(Repo.PathOf("serverless.sln"));
        Assert.Contains(project.Replace('/', '\\'), solution, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_handler_in_the_template_is_hosted_by_its_artifacts_bootstrap()
    {
        foreach (var group in Template.ResourcesOfType("AWS::Serverless::Function").GroupBy(f => (string)f.Properties["CodeUri"]!))
        {
            var hosted = ListHandlers(HostOfArtifact[group.Key]);
            foreach (var (name, properties) in group)
            {
                var handler = (string)properties["Handler"]!;
                Assert.True(hosted.Contains(handler), $"{name}: Handler {handler} is not in {group.Key}'s bootstrap, which hosts {string.Join(", ", hosted)}");
            }
        }
    }

    [Fact]
    public void The_writers_artifact_hosts_every_function_the_state_machine_invokes()
    {
        var hosted = ListHandlers(HostOfArtifact["artifacts/writeback-writers.zip"]);
        var machine = Template.ResourcesOfType("AWS::Serverless::StateMachine").Single().Properties;
        foreach (var (substitution, value) in (JsonObject)machine["DefinitionSubstitutions"]!)
        {
            var function = (JsonObject)Template.Resource(CfnTemplate.ReferencedResource(value)!)["Properties"]!;
            Assert.Equal("artifacts/writeback-writers.zip", (string?)function["CodeUri"]);
            Assert.Contains((string)function["Handler"]!, hosted);
            Assert.NotNull(substitution);
        }
    }

    /// <summary>
    /// Runs the host's build output (the JIT build the solution build made, the same code the AOT publish compiles)
    /// with --list-handlers. A full Native AOT publish takes minutes on two cores, so it is left to
    /// scripts/build-artifacts.sh rather than run on every test run.
    /// </summary>
    private static HashSet<string> ListHandlers(string project)
    {
        var directory = Path.GetDirectoryName(Repo.PathOf(project.Split('/')))!;
        var dll = Path.Combine(directory, "bin", Repo.Configuration, "net10.0", "bootstrap.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first (`dotnet build serverless.sln`, which ./writeback test does)");
        var result = Repo.Run("dotnet", [dll, "--list-handlers"], "Install the .NET 10 SDK.");
        Assert.True(result.ExitCode == 0, result.Output);
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
    }
}
