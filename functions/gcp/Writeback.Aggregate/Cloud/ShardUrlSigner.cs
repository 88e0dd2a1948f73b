using Google.Apis.Auth.OAuth2;
using Google.Cloud.Storage.V1;

namespace Writeback.Aggregate.Cloud;

/// <summary>Makes a time-limited GET URL for an object, so the AWS side reads shards with no GCP credentials.</summary>
public interface IObjectUrlSigner
{
    Task<string> SignGetAsync(string bucket, string objectName, TimeSpan lifetime, CancellationToken cancellationToken);
}

/// <summary>
/// V4 signed URLs (GOOG4-RSA-SHA256) through Google.Cloud.Storage.V1's UrlSigner. On Cloud Run the credential is a
/// ComputeCredential, which signs through the IAM signBlob API (the service account needs
/// iam.serviceAccounts.signBlob on itself); with a key file it signs locally.
/// </summary>
public sealed class GcsV4UrlSigner(UrlSigner signer) : IObjectUrlSigner
{
    public static async Task<GcsV4UrlSigner> FromApplicationDefaultAsync(CancellationToken cancellationToken) =>
        new(UrlSigner.FromCredential(await GoogleCredential.GetApplicationDefaultAsync(cancellationToken)));

    public static GcsV4UrlSigner FromServiceAccount(ServiceAccountCredential credential) => new(UrlSigner.FromCredential(credential));

    public Task<string> SignGetAsync(string bucket, string objectName, TimeSpan lifetime, CancellationToken cancellationToken) =>
        signer.SignAsync(bucket, objectName, lifetime, HttpMethod.Get, SigningVersion.V4, cancellationToken);
}
