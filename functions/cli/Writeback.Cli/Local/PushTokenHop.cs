using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Writeback.Trigger.Auth;
using Writeback.Trigger.Local;

namespace Writeback.Cli.Local;

internal sealed record PushTokenHopOptions
{
    /// <summary>The trigger's endpoint, where Google would push.</summary>
    public required Uri Target { get; init; }

    /// <summary>The subscription's configured audience: the token's <c>aud</c>.</summary>
    public required string Audience { get; init; }

    /// <summary>The subscription's service account: the token's <c>email</c>.</summary>
    public required string ServiceAccountEmail { get; init; }

    public required LocalOidcIssuer Issuer { get; init; }
}

/// <summary>One push: the envelope as the emulator sent it, and what the trigger answered (as the emulator was told).</summary>
internal sealed record PushDelivery(string Envelope, int StatusCode, string Body);

/// <summary>
/// The one thing Google's Pub/Sub emulator cannot do: sign the push. Google attaches an OIDC token for the
/// subscription's service account to every push; the emulator attaches none. This hop on loopback is the push endpoint
/// the emulator is given: it mints the token Google would (the local issuer: iss https://accounts.google.com, aud,
/// email, email_verified, iat, exp, kid) and forwards the envelope unchanged to the trigger, which verifies it as it
/// verifies Google's. It answers with the trigger's status and body, so the subscription's retry policy sees exactly
/// what the trigger said.
/// </summary>
internal sealed class PushTokenHop : IAsyncDisposable
{
    /// <summary>A batch-ready envelope is a few KiB; the trigger has limits of its own below this.</summary>
    private const int MaxBodyBytes = 1024 * 1024;

    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private PushTokenHop(WebApplication app, HttpClient http, Uri url)
    {
        _app = app;
        _http = http;
        Url = url;
    }

    /// <summary>The push endpoint to give the emulator's subscription.</summary>
    public Uri Url { get; }

    /// <summary>Every push forwarded, with the trigger's answer (or the hop's own 502 when the trigger could not be reached).</summary>
    public event Action<PushDelivery>? Delivered;

    public static async Task<PushTokenHop> StartAsync(PushTokenHopOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Longer than the subscription's ack deadline: the emulator gives up on the push first, as Pub/Sub would.
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Loopback only: whatever reaches this port leaves with a valid token.
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxBodyBytes);
        var app = builder.Build();
        PushTokenHop? hop = null;
        app.MapPost("/", (HttpContext context) => hop!.ForwardAsync(context, options));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        hop = new PushTokenHop(app, http, new Uri(address.EndsWith('/') ? address : address + "/"));
        return hop;
    }

    private async Task ForwardAsync(HttpContext context, PushTokenHopOptions options)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var envelope = body.ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, options.Target) { Content = new ByteArrayContent(envelope) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(context.Request.ContentType ?? "application/json");
        // Minted per push, as Google does: a redelivery an hour later still carries a token that has not expired.
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Issuer.MintToken(options.Audience, options.ServiceAccountEmail));

        PushDelivery delivery;
        try
        {
            using var response = await _http.SendAsync(request, context.RequestAborted);
            delivery = new PushDelivery(System.Text.Encoding.UTF8.GetString(envelope), (int)response.StatusCode, await response.Content.ReadAsStringAsync(context.RequestAborted));
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
        }
        catch (HttpRequestException e)
        {
            // Not delivered: the emulator retries anything but 2xx, and this is not one.
            delivery = new PushDelivery(System.Text.Encoding.UTF8.GetString(envelope), 502, $"{{\"outcome\":\"failed\",\"error\":\"trigger_unreachable\",\"message\":\"{System.Text.Json.JsonEncodedText.Encode(e.Message)}\"}}");
            context.Response.ContentType = "application/json";
        }

        Delivered?.Invoke(delivery);
        context.Response.StatusCode = delivery.StatusCode;
        await context.Response.WriteAsync(delivery.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }
}
