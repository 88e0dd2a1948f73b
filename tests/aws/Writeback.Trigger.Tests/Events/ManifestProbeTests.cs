using System.Net;
using System.Net.Sockets;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Writeback.Trigger.Tests.Events;

/// <summary>The manifest is read (its first byte) before anything starts; a dangling reference is the sender's fault.</summary>
public sealed class ManifestProbeTests : IDisposable
{
    private readonly TriggerTestKit _kit = new();
    private readonly WireMockServer _storage = WireMockServer.Start();

    public void Dispose()
    {
        _storage.Stop();
        _storage.Dispose();
        _kit.Dispose();
    }

    private Task<TriggerAnswer> PushFor(string manifestUri) =>
        _kit.PushAsync(_kit.ValidToken(), TriggerTestKit.Envelope(_kit.Event(manifestUri: manifestUri)));

    [Fact]
    public async Task A_manifest_that_answers_starts_the_execution_and_is_read_with_a_ranged_GET()
    {
        _storage.Given(Request.Create().WithPath("/bucket/manifest.json").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(206).WithBody("{"));

        var answer = await PushFor($"{_storage.Url}/bucket/manifest.json");

        Assert.Equal(202, answer.StatusCode);
        Assert.Single(_kit.StepFunctions.Started);
        var probe = Assert.Single(_storage.LogEntries);
        Assert.Equal("GET", probe.RequestMessage.Method);
        Assert.Equal("bytes=0-0", probe.RequestMessage.Headers!["Range"].Single());
    }

    [Fact]
    public async Task An_unreachable_manifest_URL_is_rejected_and_starts_nothing()
    {
        _storage.Given(Request.Create().WithPath("/bucket/manifest.json").UsingGet()).RespondWith(Response.Create().WithStatusCode(404));

        var answer = await PushFor($"{_storage.Url}/bucket/manifest.json");

        Assert.Equal(422, answer.StatusCode);
        Assert.Equal("manifest_unreachable", answer.Code);
        Assert.Contains("404", answer.Message, StringComparison.Ordinal);
        Assert.Empty(_kit.StepFunctions.Started);
    }

    [Fact]
    public async Task A_manifest_URL_nobody_listens_on_is_rejected()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var answer = await PushFor($"http://127.0.0.1:{port}/bucket/manifest.json");

        Assert.Equal(422, answer.StatusCode);
        Assert.Equal("manifest_unreachable", answer.Code);
        Assert.Empty(_kit.StepFunctions.Started);
    }

    [Fact]
    public async Task A_storage_error_answers_503_so_the_push_is_retried()
    {
        _storage.Given(Request.Create().WithPath("/bucket/manifest.json").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));

        var answer = await PushFor($"{_storage.Url}/bucket/manifest.json");

        Assert.Equal(503, answer.StatusCode);
        Assert.Equal("manifest_unavailable", answer.Code);
        Assert.Empty(_kit.StepFunctions.Started);
    }
}
