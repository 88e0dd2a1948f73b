using System.Xml.Linq;

namespace Writeback.Deploy.Tests;

/// <summary>
/// Where code runs decides what it may reference (DESIGN.md, "Parts and where they run"). Read from the .csproj files
/// under functions/ (found wherever they sit, known by file name): each project's closure over ProjectReference, with
/// the PackageReferences of every project in it. A package's own dependencies are not followed; no package served here
/// brings in another cloud's SDK.
/// </summary>
public sealed class ProjectDependencyTests
{
    private enum Part
    {
        /// <summary>Batches, shards, targets, load modes, the ledger: knows no cloud.</summary>
        Domain,

        /// <summary>The contracts: the handler contract every function implements (like Amazon.Lambda.Core), the steps' wire contract.</summary>
        Contract,

        /// <summary>Cloud-neutral capabilities either side may take: traces and logs, run history, SLO, the report.</summary>
        Shared,

        Gcp,
        Aws,

        /// <summary>Twins of cloud services for one machine; they never deploy.</summary>
        Local,

        /// <summary>The developer's tool: runs everything locally, so it may reference anything.</summary>
        Cli,
    }

    /// <summary>Every project under functions/ and the part it is; a new project fails the test until it is placed here.</summary>
    private static readonly Dictionary<string, (Part Part, bool Deployed)> Projects = new()
    {
        ["Writeback.Core"] = (Part.Domain, false),
        ["Writeback.Functions"] = (Part.Contract, false),
        ["Writeback.Steps.Contract"] = (Part.Contract, false),
        ["Writeback.Telemetry"] = (Part.Shared, false),
        ["Writeback.History"] = (Part.Shared, false),
        ["Writeback.Slo"] = (Part.Shared, false),
        ["Writeback.Report"] = (Part.Shared, false),
        ["Writeback.Aggregate"] = (Part.Gcp, true),
        ["Writeback.Aws"] = (Part.Aws, false),
        ["Writeback.Aws.Sns"] = (Part.Aws, false),
        ["Writeback.Lambda"] = (Part.Aws, false),
        ["Writeback.Trigger"] = (Part.Aws, false),
        ["Writeback.Steps"] = (Part.Aws, false),
        ["Writeback.Writers.Host"] = (Part.Aws, true),
        ["Writeback.Trigger.Host"] = (Part.Aws, true),
        // The ASL engine runs only where AWS Step Functions does not: locally, behind its compatible endpoint.
        ["Writeback.StepFunctions"] = (Part.Local, false),
        ["Writeback.StepFunctions.Local"] = (Part.Local, false),
        ["Writeback.Lambda.Local"] = (Part.Local, false),
        ["Writeback.Trigger.Local"] = (Part.Local, false),
        ["Writeback.Cli"] = (Part.Cli, false),
    };

    private static readonly Lazy<IReadOnlyDictionary<string, ProjectFile>> Files = new(Read);

    [Fact]
    public void Every_project_under_functions_is_classified_and_every_classified_project_exists()
    {
        var unclassified = Files.Value.Values.Where(f => !Projects.ContainsKey(f.Name)).Select(f => f.RelativePath).ToList();
        var missing = Projects.Keys.Where(name => !Files.Value.ContainsKey(name)).ToList();

        Assert.True(unclassified.Count == 0, $"Not in ProjectDependencyTests.Projects (say which part each is): {string.Join(", ", unclassified)}");
        Assert.True(missing.Count == 0, $"In ProjectDependencyTests.Projects but no such .csproj under functions/: {string.Join(", ", missing)}");
    }

    [Fact]
    public void The_GCP_side_references_no_AWS_project_and_no_AWS_SDK()
    {
        AssertNone(
            Part.Gcp,
            reference => reference.IsPackage ? IsAwsPackage(reference.Name) : PartOf(reference.Name) == Part.Aws,
            "the GCP side must not take AWS code along");
    }

    [Fact]
    public void The_domain_and_the_handler_contract_reference_no_cloud_SDK_and_no_cloud_or_local_project()
    {
        AssertNone(
            [Part.Domain, Part.Contract],
            reference => reference.IsPackage
                ? IsAwsPackage(reference.Name) || IsGooglePackage(reference.Name)
                : PartOf(reference.Name) is Part.Aws or Part.Gcp or Part.Local or Part.Cli,
            "the domain and the contract know no cloud (and no Lambda runtime)");
    }

    [Fact]
    public void Shared_capabilities_reference_no_cloud_SDK_and_no_cloud_project()
    {
        AssertNone(
            [Part.Shared],
            reference => reference.IsPackage
                ? IsAwsPackage(reference.Name) || IsGooglePackage(reference.Name)
                : PartOf(reference.Name) is Part.Aws or Part.Gcp or Part.Local or Part.Cli,
            "a cloud's adapter (SNS, say) is plugged in by that cloud's host, not carried by what both sides share");
    }

    [Fact]
    public void The_AWS_side_references_no_Google_package_and_no_GCP_project()
    {
        AssertNone(
            Part.Aws,
            reference => reference.IsPackage ? IsGooglePackage(reference.Name) : PartOf(reference.Name) == Part.Gcp,
            "the AWS side must not take GCP code along");
    }

    [Fact]
    public void No_deployed_host_references_a_local_stand_in()
    {
        var deployed = Projects.Where(p => p.Value.Deployed).Select(p => p.Key).ToList();
        Assert.Equal(["Writeback.Aggregate", "Writeback.Trigger.Host", "Writeback.Writers.Host"], deployed.Order(StringComparer.Ordinal));
        var violations = deployed
            .SelectMany(host => Closure(host).Where(c => !c.Reference.IsPackage && IsLocal(c.Reference.Name)).Select(c => c.Path))
            .ToList();

        Assert.True(violations.Count == 0, $"A deployed host reaches a local stand-in (what runs locally only):{Lines(violations)}");
    }

    private static void AssertNone(Part part, Func<Reference, bool> forbidden, string why) => AssertNone([part], forbidden, why);

    private static void AssertNone(Part[] parts, Func<Reference, bool> forbidden, string why)
    {
        var projects = Projects.Where(p => parts.Contains(p.Value.Part)).Select(p => p.Key).ToList();
        Assert.NotEmpty(projects);
        var violations = projects
            .SelectMany(project => Closure(project).Where(c => forbidden(c.Reference)).Select(c => c.Path))
            .ToList();

        Assert.True(violations.Count == 0, $"Forbidden references ({why}):{Lines(violations)}");
    }

    private static string Lines(IEnumerable<string> paths) => string.Concat(paths.Select(p => "\n  " + p));

    private static Part? PartOf(string project) => Projects.TryGetValue(project, out var entry) ? entry.Part : null;

    private static bool IsLocal(string project) =>
        PartOf(project) == Part.Local || project.EndsWith(".Local", StringComparison.Ordinal) || project.Contains(".Local.", StringComparison.Ordinal);

    private static bool IsAwsPackage(string package) => package.StartsWith("AWSSDK.", StringComparison.OrdinalIgnoreCase)
        || package.StartsWith("Amazon.Lambda.", StringComparison.OrdinalIgnoreCase);

    private static bool IsGooglePackage(string package) => package.StartsWith("Google.", StringComparison.OrdinalIgnoreCase);

    /// <summary>Everything <paramref name="project"/> reaches, each with the chain that reaches it ("A → B → AWSSDK.Core").</summary>
    private static List<(Reference Reference, string Path)> Closure(string project)
    {
        Assert.True(Files.Value.ContainsKey(project), $"No {project}.csproj under functions/.");
        var found = new List<(Reference, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { project };
        var queue = new Queue<(string Name, string Path)>([(project, project)]);
        while (queue.TryDequeue(out var current))
        {
            var file = Files.Value[current.Name];
            foreach (var package in file.Packages)
            {
                found.Add((new Reference(package, IsPackage: true), $"{current.Path} → {package} (package, in {file.RelativePath})"));
            }

            foreach (var reference in file.ProjectReferences)
            {
                if (seen.Add(reference))
                {
                    var path = $"{current.Path} → {reference}";
                    found.Add((new Reference(reference, IsPackage: false), path));
                    Assert.True(Files.Value.ContainsKey(reference), $"{file.RelativePath} references {reference}, which is not a project under functions/.");
                    queue.Enqueue((reference, path));
                }
            }
        }

        return found;
    }

    private static Dictionary<string, ProjectFile> Read()
    {
        var functions = Repo.PathOf("functions");
        var files = new Dictionary<string, ProjectFile>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(functions, "*.csproj", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Repo.Root, path);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            {
                continue;
            }

            var xml = XDocument.Load(path);
            var items = xml.Descendants().Where(e => e.Name.LocalName is "ProjectReference" or "PackageReference").ToList();
            var projects = items.Where(e => e.Name.LocalName == "ProjectReference")
                .Select(e => Path.GetFileNameWithoutExtension(((string?)e.Attribute("Include") ?? "").Replace('\\', '/')))
                .ToList();
            var packages = items.Where(e => e.Name.LocalName == "PackageReference")
                .Select(e => (string?)e.Attribute("Include") ?? "")
                .ToList();
            var name = Path.GetFileNameWithoutExtension(path);
            Assert.True(
                files.TryAdd(name, new ProjectFile(name, relative, projects, packages)),
                $"Two projects named {name} under functions/: {files.GetValueOrDefault(name)?.RelativePath} and {relative}.");
        }

        return files;
    }

    private sealed record Reference(string Name, bool IsPackage);

    private sealed record ProjectFile(string Name, string RelativePath, IReadOnlyList<string> ProjectReferences, IReadOnlyList<string> Packages);
}
