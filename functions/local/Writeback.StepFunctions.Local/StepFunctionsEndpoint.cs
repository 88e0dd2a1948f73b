using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Writeback.StepFunctions.Local.Wire;

namespace Writeback.StepFunctions.Local;

/// <summary>
/// The Step Functions API on loopback, in the service's JSON 1.0 protocol: <c>POST /</c> with
/// <c>X-Amz-Target: AWSStepFunctions.{Action}</c> and <c>Content-Type: application/x-amz-json-1.0</c>, a SigV4
/// Authorization header (any credentials: there is nothing here to protect beyond loopback), and the service's error
/// bodies. The AWS CLI and the AWS SDKs reach it with an endpoint URL override.
/// </summary>
public sealed class StepFunctionsEndpoint : IAsyncDisposable
{
    public const string ContentType = "application/x-amz-json-1.0";
    private const string TargetPrefix = "AWSStepFunctions.";

    /// <summary>A definition may be 1 MiB and an input 256 KiB; a request larger than a few of those is not one of ours.</summary>
    private const int MaxBodyBytes = 4 * 1024 * 1024;

    private readonly WebApplication _app;

    private StepFunctionsEndpoint(WebApplication app, Uri url, LocalStepFunctionsService service)
    {
        _app = app;
        Url = url;
        Service = service;
    }

    /// <summary>The endpoint URL to give the AWS CLI (<c>--endpoint-url</c>) or an SDK (<c>AWS_ENDPOINT_URL_SFN</c>).</summary>
    public Uri Url { get; }

    public LocalStepFunctionsService Service { get; }

    /// <summary>Every request answered: its action (unknown ones included) and HTTP status, for whoever wants to see the traffic.</summary>
    public event Action<string, int>? Answered;

    /// <param name="port">0 picks a free port.</param>
    public static async Task<StepFunctionsEndpoint> StartAsync(LocalStepFunctionsService service, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Loopback only: the endpoint accepts any credentials, so it must not be reachable from another machine.
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxBodyBytes);
        var app = builder.Build();
        StepFunctionsEndpoint? endpoint = null;
        app.Run(context => endpoint!.HandleAsync(context, signed: true));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        endpoint = new StepFunctionsEndpoint(app, new Uri(address.EndsWith('/') ? address : address + "/"), service);
        return endpoint;
    }

    /// <summary>
    /// The same actions for the local console's pages, which another loopback host serves at its own path: a browser
    /// holds no AWS keys, so nothing is signed. The X-Amz-Target header and this Content-Type are still required, and a
    /// page of another origin cannot send them without a CORS preflight, which nothing here answers.
    /// </summary>
    public Task AnswerUnsignedAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The other host sets no limit of its own; requests here get this endpoint's.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        return HandleAsync(context, signed: false);
    }

    private async Task HandleAsync(HttpContext context, bool signed)
    {
        var target = context.Request.Headers["X-Amz-Target"].ToString();
        var action = target.StartsWith(TargetPrefix, StringComparison.Ordinal) ? target[TargetPrefix.Length..] : target;
        int status;
        byte[] body;
        try
        {
            Check(context.Request, target, signed);
            body = await Service.InvokeAsync(action, await ReadAsync(context.Request, context.RequestAborted), context.RequestAborted);
            status = 200;
        }
        catch (StepFunctionsApiException e)
        {
            status = SfnErrors.StatusCode(e.ErrorCode);
            body = Error(e.ErrorCode, e.Message);
        }
        catch (BadHttpRequestException e)
        {
            status = 413;
            body = Error(SfnErrors.Validation, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A fault of the stand-in: the service's shape for its own failures, so a client retries instead of crashing.
            status = 500;
            body = Error(SfnErrors.InternalFailure, $"{e.GetType().Name}: {e.Message}");
        }

        // Raised before the answer is sent, so a client that has its answer can rely on observers having seen it.
        Answered?.Invoke(action, status);
        context.Response.StatusCode = status;
        context.Response.ContentType = ContentType;
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>What the service checks before it reads the body: the protocol's method, path, target and signature.</summary>
    private static void Check(HttpRequest request, string target, bool signed)
    {
        if (request.Method != HttpMethods.Post || (signed && request.Path.Value is not ("/" or "")))
        {
            throw new StepFunctionsApiException(SfnErrors.UnknownOperation, "Step Functions is spoken with POST / and an X-Amz-Target header.");
        }

        if (!target.StartsWith(TargetPrefix, StringComparison.Ordinal))
        {
            throw new StepFunctionsApiException(SfnErrors.UnknownOperation, $"X-Amz-Target '{target}' is not AWSStepFunctions.<Action>.");
        }

        if (request.ContentType?.Split(';')[0].Trim() != ContentType)
        {
            throw new StepFunctionsApiException(SfnErrors.Serialization, $"Content-Type must be {ContentType}, not '{request.ContentType}'.");
        }

        if (!signed)
        {
            return;
        }

        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length == 0)
        {
            throw new StepFunctionsApiException(SfnErrors.MissingAuthenticationToken, "Missing Authentication Token");
        }

        // Any key is accepted, but the header must be a SigV4 one scoped to this service: what an SDK signed for Step Functions.
        var scope = SigV4Scope(authorization);
        if (scope is null || scope.Length != 5 || scope[3] != "states" || scope[4] != "aws4_request"
            || !authorization.Contains("SignedHeaders=", StringComparison.Ordinal) || !authorization.Contains("Signature=", StringComparison.Ordinal))
        {
            throw new StepFunctionsApiException(SfnErrors.IncompleteSignature,
                "Authorization header requires a SigV4 signature: 'AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/states/aws4_request, SignedHeaders=…, Signature=…'.");
        }
    }

    /// <summary>The Credential's parts (key, date, region, service, terminator), or null when the header is not SigV4.</summary>
    private static string[]? SigV4Scope(string authorization)
    {
        const string scheme = "AWS4-HMAC-SHA256 ";
        const string credential = "Credential=";
        if (!authorization.StartsWith(scheme, StringComparison.Ordinal))
        {
            return null;
        }

        var at = authorization.IndexOf(credential, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var value = authorization[(at + credential.Length)..].Split(',')[0].Trim();
        return value.Split('/');
    }

    private static async Task<byte[]> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    private static byte[] Error(string type, string message) =>
        JsonSerializer.SerializeToUtf8Bytes(new ErrorResponse(type, message), SfnJson.Default.ErrorResponse);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
