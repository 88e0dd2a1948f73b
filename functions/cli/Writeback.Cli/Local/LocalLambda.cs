using System.IO.Compression;
using System.Reflection;
using Writeback.Core.Storage;
using Writeback.Lambda.Local;
using Writeback.StepFunctions;
using Writeback.Steps;

namespace Writeback.Cli.Local;

/// <summary>How the local engine's Lambda functions run.</summary>
internal enum LambdaMode
{
    /// <summary>Each function a process of the writers' JIT build, behind the local Invoke API (serve's and demo's default).</summary>
    JitProcesses,

    /// <summary>Each function a process of the Native AOT bootstrap from an artifacts folder, exactly as deployed.</summary>
    ArtifactProcesses,

    /// <summary>The handlers called in this process (SfnLocalInvoker): unit tests and the crash suite.</summary>
    InProcess,
}

/// <summary>
/// Starts the local Lambda service with template.yaml's writer functions and gives the engine its Invoke API client;
/// or, in-process, the handlers themselves.
/// </summary>
internal sealed class LocalLambda : IAsyncDisposable
{
    /// <summary>The artifact that holds the writers, as template.yaml's CodeUri names it.</summary>
    public const string WritersArtifact = "artifacts/writeback-writers.zip";

    private readonly LocalLambdaService? _service;
    private readonly HttpClient? _http;
    private readonly string? _unpacked;

    private LocalLambda(ILambdaInvoker invoker, string description, LocalLambdaService? service, HttpClient? http, string? unpacked)
    {
        Invoker = invoker;
        Description = description;
        _service = service;
        _http = http;
        _unpacked = unpacked;
    }

    public ILambdaInvoker Invoker { get; }

    /// <summary>One line for the console: which mode, and where the code comes from.</summary>
    public string Description { get; }

    /// <summary>The service, when functions run as processes.</summary>
    public LocalLambdaService? Service => _service;

    /// <summary>The writers' framework-dependent build, next to which the CLI was built.</summary>
    public static string WritersJitHost => typeof(LocalLambda).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "Writeback.WritersJitHost").Value!;

    /// <param name="artifacts">For <see cref="LambdaMode.ArtifactProcesses"/>: a folder with writeback-writers.zip (what
    /// <c>./writeback build-artifacts</c> writes) or with an unpacked bootstrap.</param>
    public static async Task<LocalLambda> StartAsync(LambdaMode mode, string connectionString, string exportsFolder, string? artifacts = null, Action<string>? log = null)
    {
        if (mode == LambdaMode.InProcess)
        {
            return new LocalLambda(
                new SfnLocalInvoker(LocalFunctions.Create(connectionString, SourcePolicy.LocalFolder(exportsFolder)), TimeSpan.FromMinutes(15)),
                "in-process handlers (no Lambda service)", null, null, null);
        }

        string? unpacked = null;
        FunctionCode code;
        string targets;
        if (mode == LambdaMode.ArtifactProcesses)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(artifacts);
            var zip = Path.Combine(artifacts, Path.GetFileName(WritersArtifact));
            var taskRoot = artifacts;
            if (File.Exists(zip))
            {
                // Lambda unzips the artifact into /var/task; so does this, keeping bootstrap's executable bit.
                unpacked = Directory.CreateTempSubdirectory("writeback-task-").FullName;
                await ZipFile.ExtractToDirectoryAsync(zip, unpacked);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(Path.Combine(unpacked, "bootstrap"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
                taskRoot = unpacked;
            }

            if (!File.Exists(Path.Combine(taskRoot, "bootstrap")))
            {
                throw new FileNotFoundException($"{artifacts} has neither {Path.GetFileName(WritersArtifact)} nor a bootstrap; run ./writeback build-artifacts linux-x64 (it writes artifacts/linux-x64).");
            }

            code = FunctionCode.Bootstrap(taskRoot);
            // The artifact's own copy of the contracts, as /var/task/targets in the cloud.
            targets = Path.Combine(taskRoot, "targets");
        }
        else
        {
            if (!File.Exists(WritersJitHost))
            {
                throw new FileNotFoundException($"The writers' build ({WritersJitHost}) is missing; build the solution (dotnet build serverless.sln).");
            }

            code = FunctionCode.JitHost(WritersJitHost);
            targets = ProjectPaths.Targets;
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // Locally the connection string is given whole; in the cloud the host builds it from Secrets Manager.
            [StepOptions.ConnectionVariable] = connectionString,
            [StepOptions.TargetsVariable] = targets,
            [SourceEnvironment.LocalExportsVariable] = exportsFolder,
        };
        var functions = TemplateFunctions.Read(Path.Combine(ProjectPaths.Root, "template.yaml"))
            .Where(f => f.CodeUri == WritersArtifact)
            .Select(f => new LocalFunction
            {
                // The name the state machine's ARNs resolve to locally (SfnSubstitutions: the Handler).
                Name = f.Handler,
                Handler = f.Handler,
                Code = code,
                Timeout = TimeSpan.FromSeconds(f.TimeoutSeconds),
                MemorySizeMb = f.MemorySizeMb,
                ReservedConcurrency = f.ReservedConcurrency,
                Environment = environment,
            })
            .ToList();
        var service = await LocalLambdaService.StartAsync(functions, log: log);
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        return new LocalLambda(new LambdaInvokeClient(http, service.Endpoint), $"Lambda Invoke API at {service.Endpoint}, functions as processes: {code.Description}", service, http, unpacked);
    }

    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        _http?.Dispose();
        if (_unpacked is not null)
        {
            Directory.Delete(_unpacked, recursive: true);
        }
    }
}
