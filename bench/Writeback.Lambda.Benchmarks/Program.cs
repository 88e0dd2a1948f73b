using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;

// Cold start of a Lambda custom-runtime process, measured locally: the time from process start to its first
// GET /runtime/invocation/next (init done, asking for work) and to its first POST .../response (first invocation
// answered), against a Runtime API emulator on loopback. The same handler (writeback-ping, which needs no database)
// runs as the Native AOT bootstrap and as a framework-dependent (JIT) build of the same host project.
//
//   scripts/build-artifacts.sh linux-x64
//   dotnet run -c Release --project bench/Writeback.Lambda.Benchmarks -- [--runs 20] [--handler writeback-ping]

var runs = IntArg("--runs", 20);
var handler = StringArg("--handler", "writeback-ping");
var root = FindRoot();
var rid = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "linux-arm64" : "linux-x64";
var artifactDir = rid == "linux-arm64" ? Path.Combine(root, "artifacts") : Path.Combine(root, "artifacts", rid);
var aotZip = Path.Combine(artifactDir, "writeback-writers.zip");
if (!File.Exists(aotZip))
{
    Console.Error.WriteLine($"{aotZip} is missing: run `scripts/build-artifacts.sh {rid}` first.");
    return 2;
}

var work = Directory.CreateTempSubdirectory("writeback-coldstart-");
try
{
    var aotDir = Path.Combine(work.FullName, "aot");
    ZipFile.ExtractToDirectory(aotZip, aotDir);
    var aotBootstrap = Path.Combine(aotDir, "bootstrap");
    if (!OperatingSystem.IsWindows())
    {
        File.SetUnixFileMode(aotBootstrap, File.GetUnixFileMode(aotBootstrap) | UnixFileMode.UserExecute);
    }

    var jitDir = Path.Combine(work.FullName, "jit");
    Console.Error.WriteLine("bench: publishing the framework-dependent (JIT) build of the writers host…");
    Publish(root, rid, jitDir);
    var jitBootstrap = Path.Combine(jitDir, "bootstrap");
    var jitZip = Path.Combine(work.FullName, "jit.zip");
    ZipFile.CreateFromDirectory(jitDir, jitZip, CompressionLevel.Optimal, includeBaseDirectory: false);

    using var emulator = new RuntimeApiEmulator();
    var variants = new (string Name, string Path)[] { ("Native AOT", aotBootstrap), ("JIT (framework-dependent)", jitBootstrap) };
    var results = variants.ToDictionary(v => v.Name, _ => new List<ColdStart>());

    // One unmeasured start each so both read their files from the page cache, like a warm Lambda host's disk.
    foreach (var (_, path) in variants)
    {
        await emulator.MeasureAsync(path, handler);
    }

    // Alternate the variants so drift in machine load affects both alike.
    for (var i = 0; i < runs; i++)
    {
        foreach (var (name, path) in variants)
        {
            results[name].Add(await emulator.MeasureAsync(path, handler));
        }
    }

    Console.WriteLine($"Cold start of `{handler}` on {rid}, {runs} runs each (ms from process start)");
    Console.WriteLine();
    Console.WriteLine("| build | first `next` p50 | p90 | first `response` p50 | p90 |");
    Console.WriteLine("|---|---:|---:|---:|---:|");
    foreach (var (name, samples) in results)
    {
        var next = samples.Select(s => s.FirstNext.TotalMilliseconds).ToList();
        var response = samples.Select(s => s.FirstResponse.TotalMilliseconds).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {Percentile(next, 50):F1} | {Percentile(next, 90):F1} | {Percentile(response, 50):F1} | {Percentile(response, 90):F1} |"));
    }

    Console.WriteLine();
    Console.WriteLine("| artifact | zipped bytes |");
    Console.WriteLine("|---|---:|");
    foreach (var zip in new[]
    {
        Path.Combine(root, "artifacts", "writeback-writers.zip"),
        Path.Combine(root, "artifacts", "writeback-trigger.zip"),
        Path.Combine(root, "artifacts", "linux-x64", "writeback-writers.zip"),
        Path.Combine(root, "artifacts", "linux-x64", "writeback-trigger.zip"),
    }.Where(File.Exists))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {Path.GetRelativePath(root, zip)} | {new FileInfo(zip).Length:N0} |"));
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| writers, JIT framework-dependent ({rid}; needs the managed .NET runtime on Lambda) | {new FileInfo(jitZip).Length:N0} |"));
    return 0;
}
finally
{
    work.Delete(recursive: true);
}

int IntArg(string name, int fallback) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;

string StringArg(string name, string fallback) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;

static double Percentile(List<double> values, int percentile)
{
    var sorted = values.Order().ToList();
    var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1;
    return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "serverless.sln")))
        {
            return dir.FullName;
        }
    }

    throw new InvalidOperationException("Run from inside the repository (serverless.sln not found).");
}

static void Publish(string root, string rid, string output)
{
    var start = new ProcessStartInfo("dotnet")
    {
        ArgumentList =
        {
            "publish", Path.Combine(root, "functions", "aws", "Writeback.Writers.Host", "Writeback.Writers.Host.csproj"),
            "-c", "Release", "-r", rid, "--self-contained", "false", "-p:PublishAot=false", "-o", output, "--nologo", "-v", "q",
        },
        RedirectStandardOutput = true,
    };
    using var process = Process.Start(start)!;
    var log = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"dotnet publish (JIT) failed:\n{log}");
    }
}

internal sealed record ColdStart(TimeSpan FirstNext, TimeSpan FirstResponse);

/// <summary>
/// The three Runtime API calls a cold start makes, on a loopback socket: answers the first <c>next</c> with one ping
/// event, accepts its response, and ends the process when it asks for the next event.
/// </summary>
internal sealed class RuntimeApiEmulator : IDisposable
{
    private TcpListener? _listener;

    public async Task<ColdStart> MeasureAsync(string bootstrap, string handler)
    {
        // A fresh port per run: the previous process's last `next` may still sit in the old listener's backlog.
        _listener?.Stop();
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        var runtimeApi = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        var start = new ProcessStartInfo(bootstrap) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["AWS_LAMBDA_RUNTIME_API"] = runtimeApi;
        start.Environment["_HANDLER"] = handler;
        start.Environment["AWS_REGION"] = "us-east-1";
        start.Environment["AWS_LAMBDA_FUNCTION_NAME"] = "writeback-bench";
        start.Environment["LAMBDA_TASK_ROOT"] = Path.GetDirectoryName(bootstrap);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            TimeSpan? firstNext = null, firstResponse = null;
            var requestId = Guid.NewGuid().ToString();
            while (firstResponse is null)
            {
                using var client = await _listener.AcceptTcpClientAsync(timeout.Token);
                // One connection may carry several requests (keep-alive): serve until it closes or we are done.
                var stream = client.GetStream();
                while (firstResponse is null && await ReadRequestAsync(stream, timeout.Token) is { } request)
                {
                    if (request.Method == "GET" && request.Path.EndsWith("/invocation/next", StringComparison.Ordinal))
                    {
                        if (firstNext is not null)
                        {
                            break;
                        }

                        firstNext = clock.Elapsed;
                        var deadline = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
                        await WriteAsync(stream, "200 OK", "{\"ping\":true}",
                            $"Lambda-Runtime-Aws-Request-Id: {requestId}\r\nLambda-Runtime-Deadline-Ms: {deadline}\r\n" +
                            "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:writeback-bench\r\n" +
                            "Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n", timeout.Token);
                    }
                    else if (request.Method == "POST" && request.Path.EndsWith($"/invocation/{requestId}/response", StringComparison.Ordinal))
                    {
                        firstResponse = clock.Elapsed;
                        await WriteAsync(stream, "202 Accepted", "{}", "", timeout.Token);
                    }
                    else
                    {
                        throw new InvalidOperationException($"unexpected {request.Method} {request.Path}: {request.Body}");
                    }
                }
            }

            return new ColdStart(firstNext!.Value, firstResponse.Value);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static async Task<(string Method, string Path, string Body)?> ReadRequestAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var header = new StringBuilder();
        var one = new byte[1];
        while (!header.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                return null;
            }

            header.Append((char)one[0]);
        }

        var lines = header.ToString().Split("\r\n");
        var parts = lines[0].Split(' ');
        var length = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(p => int.Parse(p[1].Trim(), CultureInfo.InvariantCulture)).FirstOrDefault();
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, cancellationToken);
        return (parts[0], parts[1], Encoding.UTF8.GetString(body));
    }

    private static async Task WriteAsync(NetworkStream stream, string status, string body, string headers, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var head = $"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\n{headers}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
        await stream.WriteAsync(bytes, cancellationToken);
    }

    public void Dispose() => _listener?.Stop();
}
