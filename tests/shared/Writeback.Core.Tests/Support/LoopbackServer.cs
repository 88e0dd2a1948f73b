using System.Net;
using System.Net.Sockets;

namespace Writeback.Core.Tests.Support;

/// <summary>A real HTTP server on 127.0.0.1 that answers by path and records every request it was sent.</summary>
public sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, Action<HttpListenerResponse>> _answers = new(StringComparer.Ordinal);
    private readonly List<string> _requests = [];

    public LoopbackServer()
    {
        for (var attempt = 0; ; attempt++)
        {
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }

        _ = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Answers GETs of <paramref name="path"/>; every other path is 404.</summary>
    public void Answer(string path, Action<HttpListenerResponse> answer)
    {
        lock (_answers)
        {
            _answers[path] = answer;
        }
    }

    public void AnswerBody(string path, string body) => Answer(path, response =>
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        response.ContentLength64 = bytes.Length;
        response.OutputStream.Write(bytes);
    });

    public void Dispose() => _listener.Close();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var path = context.Request.Url!.AbsolutePath;
            lock (_requests)
            {
                _requests.Add(context.Request.Url.PathAndQuery);
            }

            Action<HttpListenerResponse>? answer;
            lock (_answers)
            {
                _answers.TryGetValue(path, out answer);
            }

            try
            {
                if (answer is null)
                {
                    context.Response.StatusCode = 404;
                }
                else
                {
                    answer(context.Response);
                }

                context.Response.Close();
            }
            catch (HttpListenerException)
            {
                // The client went away (e.g. it stopped reading at its cap): nothing to answer.
            }
        }
    }
}
