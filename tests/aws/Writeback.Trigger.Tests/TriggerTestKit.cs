using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Writeback.Core.Contracts;
using Writeback.Core.Storage;
using Writeback.Functions;
using Writeback.Trigger.Auth;
using Writeback.Trigger.Events;
using Writeback.Trigger.Executions;
using Writeback.Trigger.Local;

namespace Writeback.Trigger.Tests;

/// <summary>Step Functions' StartExecution and DescribeExecution rules (Standard), in memory: it records what was really started.</summary>
public sealed class FakeStepFunctions : IExecutionStarter
{
    private readonly Dictionary<string, (string Input, ExecutionState State)> _executions = new(StringComparer.Ordinal);

    public List<(string Name, string Input)> Started { get; } = [];

    public Exception? FailWith { get; set; }

    public Task<ExecutionStartResult> StartAsync(string name, string inputJson, CancellationToken cancellationToken)
    {
        if (FailWith is not null)
        {
            throw FailWith;
        }

        lock (_executions)
        {
            if (!_executions.TryGetValue(name, out var existing))
            {
                _executions[name] = (inputJson, ExecutionState.Running);
                Started.Add((name, inputJson));
                return Task.FromResult(new ExecutionStartResult(ExecutionStartOutcome.Started, $"arn:aws:states:us-east-1:123456789012:execution:writeback:{name}"));
            }

            return Task.FromResult(new ExecutionStartResult(
                existing.State == ExecutionState.Running && existing.Input == inputJson ? ExecutionStartOutcome.AlreadyRunning : ExecutionStartOutcome.AlreadyExists));
        }
    }

    /// <summary>Runs before each DescribeExecution answers, so a test can hold callers at the worst interleaving.</summary>
    public Func<string, Task>? BeforeDescribe { get; set; }

    public async Task<ExecutionState?> DescribeAsync(string name, CancellationToken cancellationToken)
    {
        if (FailWith is not null)
        {
            throw FailWith;
        }

        if (BeforeDescribe is { } hook)
        {
            await hook(name);
        }

        lock (_executions)
        {
            return _executions.TryGetValue(name, out var existing) ? existing.State : null;
        }
    }

    /// <summary>Closes the execution (SUCCEEDED unless told otherwise), as the workflow ending would.</summary>
    public void Finish(string name, ExecutionState state = ExecutionState.Succeeded)
    {
        lock (_executions)
        {
            _executions[name] = (_executions[name].Input, state);
        }
    }
}

public sealed record TriggerAnswer(int StatusCode, JsonObject Body)
{
    public string? Outcome => (string?)Body["outcome"];

    public string? Code => (string?)Body["error"];

    public string Message => (string?)Body["message"] ?? "";
}

/// <summary>A trigger wired as on one machine: a local issuer's key, a fake Step Functions, a real manifest file.</summary>
public sealed class TriggerTestKit : IDisposable
{
    public const string Audience = "https://abcdefghij.lambda-url.us-east-1.on.aws/";
    public const string PushAccount = "writeback-push@demo-project.iam.gserviceaccount.com";

    private readonly string _directory = Directory.CreateTempSubdirectory("writeback-trigger-").FullName;

    /// <param name="sources">Where manifests may be; by default the kit's folder and loopback URLs (a local run).</param>
    public TriggerTestKit(bool checkManifest = true, SourcePolicy? sources = null, HttpClient? http = null, IIdTokenValidator? validator = null)
    {
        Http = http ?? new HttpClient();
        ManifestPath = Path.Combine(_directory, "manifest.json");
        File.WriteAllText(ManifestPath, "{}");
        Handler = new TriggerHandler(
            new TriggerOptions
            {
                Audience = Audience,
                PushServiceAccountEmail = PushAccount,
                Datasets = KnownDatasets.Of("student_dashboard", "class_summary"),
                CheckManifest = checkManifest,
                // The probe's 5 s is for a real bucket; a loaded 2-core CI machine has taken longer than that to answer
                // WireMock's first request, and no test here is about the probe's timeout.
                ManifestProbeTimeout = TimeSpan.FromMinutes(1),
                // The kit's folder, and the loopback storage stand-ins (WireMock) of the probe tests.
                Sources = sources ?? SourcePolicy.LocalFolder(_directory, allowLoopbackHttp: true),
            },
            validator ?? Issuer.CreateValidator(),
            StepFunctions,
            Http);
    }

    public LocalOidcIssuer Issuer { get; } = LocalOidcIssuer.Create();

    public FakeStepFunctions StepFunctions { get; } = new();

    public HttpClient Http { get; }

    public TriggerHandler Handler { get; }

    public string ManifestPath { get; }

    /// <summary>The only folder the kit's trigger reads files from.</summary>
    public string Folder => _directory;

    public string ManifestUri => new Uri(ManifestPath).AbsoluteUri;

    public string ValidToken() => Issuer.MintToken(Audience, PushAccount);

    public string Token(Func<LocalTokenClaims, LocalTokenClaims> change, LocalOidcIssuer? signer = null)
    {
        var now = DateTimeOffset.UtcNow;
        var claims = new LocalTokenClaims { Audience = Audience, Email = PushAccount, IssuedAt = now, ExpiresAt = now.AddHours(1) };
        return (signer ?? Issuer).MintToken(change(claims));
    }

    public BatchReadyEvent Event(string batchId = "student_dashboard-2026-11-25-001", string dataset = "student_dashboard", string? manifestUri = null) => new()
    {
        Version = 1,
        BatchId = batchId,
        Dataset = dataset,
        Partition = "2026-11-25",
        ManifestUri = manifestUri ?? ManifestUri,
        Sequence = 1,
        Traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    };

    public static string Envelope(BatchReadyEvent batch) =>
        EnvelopeWithData(Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(batch, ContractJson.Default.BatchReadyEvent)));

    public static string EnvelopeWithData(string data) => new JsonObject
    {
        ["message"] = new JsonObject
        {
            ["data"] = data,
            ["attributes"] = new JsonObject { ["batchId"] = "x" },
            ["messageId"] = "136969346945",
            ["message_id"] = "136969346945",
            ["publishTime"] = "2026-11-26T01:02:03.456Z",
            ["publish_time"] = "2026-11-26T01:02:03.456Z",
        },
        ["subscription"] = "projects/demo-project/subscriptions/writeback-push",
    }.ToJsonString();

    public Task<TriggerAnswer> PushAsync(string? token, string body, string method = "POST", bool base64Body = false, string? authorization = null)
    {
        var headers = new JsonObject { ["content-type"] = "application/json", ["user-agent"] = "APIs-Google" };
        if (token is not null)
        {
            headers["authorization"] = $"Bearer {token}";
        }

        if (authorization is not null)
        {
            headers["authorization"] = authorization;
        }

        var functionUrlEvent = new JsonObject
        {
            ["version"] = "2.0",
            ["routeKey"] = "$default",
            ["rawPath"] = "/",
            ["rawQueryString"] = "",
            ["headers"] = headers,
            ["requestContext"] = new JsonObject
            {
                ["accountId"] = "anonymous",
                ["domainName"] = "abcdefghij.lambda-url.us-east-1.on.aws",
                ["http"] = new JsonObject { ["method"] = method, ["path"] = "/", ["protocol"] = "HTTP/1.1", ["sourceIp"] = "66.249.84.1" },
                ["requestId"] = Guid.NewGuid().ToString(),
                ["timeEpoch"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            },
            ["body"] = base64Body ? Convert.ToBase64String(Encoding.UTF8.GetBytes(body)) : body,
            ["isBase64Encoded"] = base64Body,
        };
        return InvokeAsync(functionUrlEvent.ToJsonString());
    }

    public async Task<TriggerAnswer> InvokeAsync(string payload)
    {
        var json = await Handler.InvokeAsync(payload, InvocationContext.Local(TimeSpan.FromMinutes(1)), CancellationToken.None);
        var response = JsonNode.Parse(json)!.AsObject();
        Assert.Equal("application/json", (string?)response["headers"]!["content-type"]);
        return new TriggerAnswer((int)response["statusCode"]!, JsonNode.Parse((string)response["body"]!)!.AsObject());
    }

    public void Dispose()
    {
        Issuer.Dispose();
        Http.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
