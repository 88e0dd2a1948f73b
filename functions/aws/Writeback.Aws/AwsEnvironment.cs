using Amazon.Runtime;

namespace Writeback.Aws;

/// <summary>The AWS SDKs' standard variables, read the way the SDKs read them, through an environment seam.</summary>
public static class AwsEnvironment
{
    /// <summary>The AWS SDKs' endpoint override for every service; a service-specific one (e.g. <c>AWS_ENDPOINT_URL_SFN</c>) wins.</summary>
    public const string GlobalEndpointVariable = "AWS_ENDPOINT_URL";

    /// <summary>"true" makes the SDKs ignore both overrides, and so does this client.</summary>
    public const string IgnoreEndpointsVariable = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";

    /// <summary>
    /// The endpoint from <paramref name="serviceVariable"/> or <see cref="GlobalEndpointVariable"/>; null (the regional
    /// endpoint) when neither is set or <see cref="IgnoreEndpointsVariable"/> is "true".
    /// </summary>
    public static Uri? Endpoint(Func<string, string?> get, string serviceVariable, string serviceName)
    {
        ArgumentNullException.ThrowIfNull(get);
        var url = get(serviceVariable) is { Length: > 0 } service ? service : get(GlobalEndpointVariable);
        if (url is not { Length: > 0 } || string.Equals(get(IgnoreEndpointsVariable), "true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"
            ? parsed
            : throw new InvalidOperationException($"The {serviceName} endpoint override '{url}' is not an http(s) URL.");
    }

    /// <summary>Keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN when both keys are there; else null (the SDK's chain).</summary>
    public static AWSCredentials? Credentials(Func<string, string?> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        return get("AWS_ACCESS_KEY_ID") is { Length: > 0 } key && get("AWS_SECRET_ACCESS_KEY") is { Length: > 0 } secret
            ? get("AWS_SESSION_TOKEN") is { Length: > 0 } token ? new SessionAWSCredentials(key, secret, token) : new BasicAWSCredentials(key, secret)
            : null;
    }
}
