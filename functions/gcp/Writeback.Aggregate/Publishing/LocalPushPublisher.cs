using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Writeback.Aggregate.Publishing;

/// <summary>Where and as whom the local twin of a push subscription delivers.</summary>
public sealed record LocalPushOptions
{
    public const string DefaultSubscription = "projects/writeback-local/subscriptions/batch-ready-push";

    /// <summary>The trigger's endpoint (its Function URL locally).</summary>
    public required Uri PushUrl { get; init; }

    /// <summary>The token's <c>aud</c>; Pub/Sub defaults it to the push endpoint, and so do we.</summary>
    public string? Audience { get; init; }

    public string Subscription { get; init; } = DefaultSubscription;
}

/// <summary>
/// The local twin of Pub/Sub push: POSTs the same envelope Pub/Sub would, with a bearer OIDC token, straight to
/// the trigger. Like Pub/Sub it treats 102/200/201/202/204 as acknowledged and anything else as not delivered.
/// </summary>
public sealed class LocalPushPublisher(HttpClient http, LocalPushOptions options, IPushTokenSource tokens, TimeProvider? timeProvider = null) : IBatchPublisher
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public async Task<string> PublishAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var messageId = NewMessageId();
        var envelope = new PushEnvelope(
            new PushMessage(
                message.Data,
                message.Attributes,
                messageId,
                _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)),
            options.Subscription);

        var token = await tokens.GetTokenAsync(options.Audience ?? options.PushUrl.AbsoluteUri, cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Post, options.PushUrl)
        {
            Content = JsonContent.Create(envelope, PublishingJson.Default.PushEnvelope),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var response = await http.SendAsync(request, cancellationToken);
        var status = (int)response.StatusCode;
        if (status is 102 or 200 or 201 or 202 or 204)
        {
            return messageId;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        throw new PublishException($"push to {options.PushUrl} answered {status}: {Trim(body)}", status);
    }

    /// <summary>Pub/Sub message ids are decimal strings; a random 63-bit one keeps the same shape.</summary>
    private static string NewMessageId() =>
        (BitConverter.ToUInt64(Guid.NewGuid().ToByteArray(), 0) >> 1).ToString(CultureInfo.InvariantCulture);

    private static string Trim(string text) => text.Length <= 500 ? text : text[..500] + "…";
}
