using System.Net;
using System.Net.Sockets;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Tests.Support;
using Writeback.Testing;
using static Writeback.Core.Tests.Support.TestBatches;

namespace Writeback.Core.Tests.Storage;

/// <summary>Manifests and shards served over HTTP (as signed URLs are in the cloud): streamed to a temp file, hashed on the way.</summary>
public sealed class HttpBatchTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IDisposable
{
    private readonly TestBatches _batches = new();
    private readonly HttpListener _listener = new();
    private readonly List<string> _requests = [];
    private int _port;

    public void Dispose()
    {
        _listener.Close();
        _batches.Dispose();
    }

    /// <summary>Serves the test folder; <paramref name="status"/> overrides the answer for paths containing a marker.</summary>
    private string Serve(Func<string, int?>? status = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                _port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{_port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }

        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception)
                {
                    return;
                }

                var path = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath);
                lock (_requests)
                {
                    _requests.Add(context.Request.Url.PathAndQuery);
                }

                var file = Path.Combine(_batches.Folder, path.TrimStart('/'));
                var forced = status?.Invoke(path);
                if (forced is not null || !File.Exists(file))
                {
                    context.Response.StatusCode = forced ?? 404;
                    context.Response.Close();
                    continue;
                }

                await using (var source = File.OpenRead(file))
                {
                    context.Response.ContentLength64 = source.Length;
                    await source.CopyToAsync(context.Response.OutputStream);
                }

                context.Response.Close();
            }
        });
        return $"http://127.0.0.1:{_port}/";
    }

    private string UrlOf(string manifestPath, string baseUrl) =>
        baseUrl + Path.GetRelativePath(_batches.Folder, manifestPath).Replace('\\', '/') + "?X-Goog-Signature=secret";

    [Fact]
    public async Task A_batch_whose_manifest_and_shards_are_urls_loads_like_a_local_one()
    {
        var target = ScoresTarget("http_batch", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("http-batch-1", target.Dataset, [Scores(Day1, 300), Scores(Day1, 200, firstId: 301)], "2026-11-01");
        var url = UrlOf(manifest, Serve());

        var result = await RunAsync(engine, url);

        Assert.Equal(500L, result.Inserted);
        Assert.Contains(_requests, r => r.EndsWith("shard-00001.parquet", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_shard_url_that_answers_404_is_an_invalid_batch_and_a_500_is_transient()
    {
        var target = ScoresTarget("http_missing", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("http-missing-1", target.Dataset, [Scores(Day1, 3), Scores(Day1, 3, firstId: 4)], "2026-11-01");
        var url = UrlOf(manifest, Serve(path => path.EndsWith("shard-00000.parquet", StringComparison.Ordinal) ? 404 : path.EndsWith("shard-00001.parquet", StringComparison.Ordinal) ? 503 : null));
        await engine.PrepareAsync(url, null, null, default);

        var missing = await Record.ExceptionAsync(() => engine.LoadShardAsync(url, "http-missing-1", 0, default));
        var unavailable = await Record.ExceptionAsync(() => engine.LoadShardAsync(url, "http-missing-1", 1, default));

        Assert.Contains("batch 'http-missing-1', shard 0", Assert.IsType<InvalidBatchException>(missing).Message);
        Assert.DoesNotContain("secret", missing.Message);
        Assert.True(Failures.IsTransient(unavailable!), unavailable!.ToString());
    }

    [Fact]
    public async Task The_shard_loads_of_a_batch_read_its_manifest_once_not_once_per_shard()
    {
        var target = ScoresTarget("http_manifest_once", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync(
            "http-once-1", target.Dataset, [.. Enumerable.Range(0, 6).Select(i => Scores(Day1, 10, firstId: 1 + (i * 10)))], "2026-11-01");
        var url = UrlOf(manifest, Serve());
        await engine.PrepareAsync(url, null, null, default);
        int ManifestReads()
        {
            lock (_requests)
            {
                return _requests.Count(r => r.Contains("manifest.json", StringComparison.Ordinal));
            }
        }

        var beforeLoads = ManifestReads();
        for (var shard = 0; shard < 6; shard++)
        {
            await engine.LoadShardAsync(url, "http-once-1", shard, default);
        }

        Assert.Equal(1, ManifestReads() - beforeLoads);
        await engine.VerifyAsync(url, "http-once-1", default);
        Assert.Equal(60L, (await engine.PublishAsync(url, "http-once-1", default)).Inserted);
    }

    [Fact]
    public async Task A_local_manifest_written_again_after_a_shard_load_is_read_again_by_the_next()
    {
        var target = ScoresTarget("manifest_rewritten", LoadMode.ReplacePartition);
        var engine = CreateEngine(database.ConnectionString, target);
        var manifest = await _batches.WriteScoresAsync("rewritten-1", target.Dataset, [Scores(Day1, 5), Scores(Day1, 5, firstId: 6)], "2026-11-01");
        await engine.PrepareAsync(manifest, null, null, default);
        await engine.LoadShardAsync(manifest, "rewritten-1", 0, default);

        var other = await _batches.WriteScoresAsync("rewritten-other-2", target.Dataset, [Scores(Day1, 5), Scores(Day1, 5, firstId: 6)], "2026-11-01");
        File.Copy(other, manifest, overwrite: true);
        var error = await Record.ExceptionAsync(() => engine.LoadShardAsync(manifest, "rewritten-1", 1, default));

        Assert.Contains("the manifest is for batch 'rewritten-other-2'", Assert.IsType<InvalidBatchException>(error).Message, StringComparison.Ordinal);
    }
}
