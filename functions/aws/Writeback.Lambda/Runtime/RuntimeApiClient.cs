using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Writeback.Lambda.Runtime;

/// <summary>One event handed out by <c>GET /runtime/invocation/next</c>, with the headers that describe it.</summary>
public sealed record RuntimeInvocation(string RequestId, DateTimeOffset Deadline, string? TraceId, string? InvokedFunctionArn, string Payload);

/// <summary>The error document the Runtime API accepts for an invocation error or an init error.</summary>
public sealed record RuntimeError(
    [property: JsonPropertyName("errorMessage")] string ErrorMessage,
    [property: JsonPropertyName("errorType")] string ErrorType,
    [property: JsonPropertyName("stackTrace")] IReadOnlyList<string>? StackTrace);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RuntimeError))]
internal sealed partial class RuntimeJson : JsonSerializerContext;

/// <summary>
/// The Lambda Runtime API (version 2018-06-01) over HTTP: next, response, error and init error.
/// It knows nothing about handlers; <see cref="LambdaRuntime"/> drives it.
/// </summary>
public sealed class RuntimeApiClient : IDisposable
{
    public const string RequestIdHeader = "Lambda-Runtime-Aws-Request-Id";
    public const string DeadlineHeader = "Lambda-Runtime-Deadline-Ms";
    public const string TraceIdHeader = "Lambda-Runtime-Trace-Id";
    public const string FunctionArnHeader = "Lambda-Runtime-Invoked-Function-Arn";
    public const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";

    private const string Version = "2018-06-01";
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <param name="http">A client whose BaseAddress is <c>http://{AWS_LAMBDA_RUNTIME_API}/</c> and whose timeout is
    /// infinite: <c>next</c> is a long poll that returns only when an event arrives.</param>
    public RuntimeApiClient(HttpClient http) : this(http, ownsHttp: false)
    {
    }

    private RuntimeApiClient(HttpClient http, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (http.BaseAddress is null)
        {
            throw new ArgumentException("The HttpClient needs a BaseAddress (http://{AWS_LAMBDA_RUNTIME_API}/).", nameof(http));
        }

        _http = http;
        _ownsHttp = ownsHttp;
    }

    /// <summary>Builds the client for a Runtime API endpoint given as <c>host:port</c>, the form AWS_LAMBDA_RUNTIME_API uses.</summary>
    public static RuntimeApiClient ForEndpoint(string runtimeApi, HttpMessageHandler? handler = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runtimeApi);
        var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = new Uri($"http://{runtimeApi}/", UriKind.Absolute);
        http.Timeout = Timeout.InfiniteTimeSpan;
        return new RuntimeApiClient(http, ownsHttp: true);
    }

    public async Task<RuntimeInvocation> NextInvocationAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(
            new Uri($"{Version}/runtime/invocation/next", UriKind.Relative), HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new RuntimeApiException($"GET invocation/next answered {(int)response.StatusCode}.");
        }

        var requestId = Header(response, RequestIdHeader)
            ?? throw new RuntimeApiException($"GET invocation/next answered without {RequestIdHeader}.");
        var deadlineText = Header(response, DeadlineHeader);
        var deadline = long.TryParse(deadlineText, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            // Without the header we have no deadline to honour; Lambda always sends it, so this is defensive only.
            : DateTimeOffset.MaxValue;
        var payload = await response.Content.ReadAsStringAsync(cancellationToken);
        return new RuntimeInvocation(requestId, deadline, Header(response, TraceIdHeader), Header(response, FunctionArnHeader), payload);
    }

    /// <returns>False when the Runtime API refused the response as too large (413); the caller then reports an error.</returns>
    public async Task<bool> SendResponseAsync(string requestId, string responseJson, CancellationToken cancellationToken)
    {
        using var content = new StringContent(responseJson, Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(InvocationUri(requestId, "response"), content, cancellationToken);
        if (response.StatusCode == HttpStatusCode.RequestEntityTooLarge)
        {
            return false;
        }

        await EnsureAcceptedAsync(response, "response", cancellationToken);
        return true;
    }

    public async Task SendErrorAsync(string requestId, RuntimeError error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        using var response = await PostErrorAsync(InvocationUri(requestId, "error"), error, cancellationToken);
        await EnsureAcceptedAsync(response, "error", cancellationToken);
    }

    public async Task SendInitErrorAsync(RuntimeError error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        using var response = await PostErrorAsync(new Uri($"{Version}/runtime/init/error", UriKind.Relative), error, cancellationToken);
        await EnsureAcceptedAsync(response, "init/error", cancellationToken);
    }

    private async Task<HttpResponseMessage> PostErrorAsync(Uri uri, RuntimeError error, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new StringContent(JsonSerializer.Serialize(error, RuntimeJson.Default.RuntimeError), Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation(ErrorTypeHeader, error.ErrorType);
        return await _http.SendAsync(request, cancellationToken);
    }

    private static Uri InvocationUri(string requestId, string what) =>
        new($"{Version}/runtime/invocation/{Uri.EscapeDataString(requestId)}/{what}", UriKind.Relative);

    private static async Task EnsureAcceptedAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        throw new RuntimeApiException($"POST {what} answered {(int)response.StatusCode}: {body}");
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}

/// <summary>The Runtime API itself misbehaved; the runtime cannot go on and the process should exit.</summary>
public sealed class RuntimeApiException : Exception
{
    public RuntimeApiException() { }

    public RuntimeApiException(string message) : base(message) { }

    public RuntimeApiException(string message, Exception innerException) : base(message, innerException) { }
}
