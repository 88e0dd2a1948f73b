using System.Security.Cryptography;
using System.Text;
using Google.Apis.Auth.OAuth2;
using Writeback.Aggregate.Cloud;

namespace Writeback.Aggregate.Tests.Cloud;

public sealed class GcsV4UrlSignerTests : IDisposable
{
    private const string Account = "aggregate@my-project.iam.gserviceaccount.com";
    private const string Shard = "writeback/student_dashboard/2026-11-25/run/shard-000000000000.parquet";
    private readonly RSA _key = RSA.Create(2048);
    private readonly GcsV4UrlSigner _signer;

    public GcsV4UrlSignerTests() =>
        _signer = GcsV4UrlSigner.FromServiceAccount(new ServiceAccountCredential(
            new ServiceAccountCredential.Initializer(Account).FromPrivateKey(_key.ExportPkcs8PrivateKeyPem())));

    [Fact]
    public async Task A_signed_URL_carries_the_V4_query_parameters()
    {
        var url = new Uri(await _signer.SignGetAsync("my-bucket", Shard, TimeSpan.FromHours(12), CancellationToken.None));

        Assert.Equal("https://storage.googleapis.com/my-bucket/" + Shard, url.GetLeftPart(UriPartial.Path));
        var parameters = Parameters(url).ToDictionary(p => p.Name, p => Uri.UnescapeDataString(p.Value));
        Assert.Equal("GOOG4-RSA-SHA256", parameters["X-Goog-Algorithm"]);
        Assert.Equal("43200", parameters["X-Goog-Expires"]);
        Assert.Equal("host", parameters["X-Goog-SignedHeaders"]);
        Assert.Matches(@"^\d{8}T\d{6}Z$", parameters["X-Goog-Date"]);
        Assert.Matches($"^{Account.Replace(".", @"\.", StringComparison.Ordinal)}/\\d{{8}}/auto/storage/goog4_request$", parameters["X-Goog-Credential"]);
        Assert.Matches("^[0-9a-f]{512}$", parameters["X-Goog-Signature"]);
    }

    [Fact]
    public async Task The_signature_verifies_with_the_service_accounts_public_key()
    {
        var url = new Uri(await _signer.SignGetAsync("my-bucket", Shard, TimeSpan.FromHours(12), CancellationToken.None));

        Assert.True(Verifies(_key, url));
    }

    [Fact]
    public async Task The_signature_does_not_verify_with_another_key_or_for_another_object()
    {
        using var other = RSA.Create(2048);
        var url = new Uri(await _signer.SignGetAsync("my-bucket", Shard, TimeSpan.FromHours(12), CancellationToken.None));
        var tampered = new Uri(url.AbsoluteUri.Replace("shard-000000000000", "shard-000000000001", StringComparison.Ordinal));

        Assert.False(Verifies(other, url));
        Assert.False(Verifies(_key, tampered));
    }

    public void Dispose() => _key.Dispose();

    /// <summary>Rebuilds the string Google verifies (the V4 signing process: canonical request, then string-to-sign).</summary>
    private static bool Verifies(RSA key, Uri url)
    {
        var parameters = Parameters(url);
        var values = parameters.ToDictionary(p => p.Name, p => Uri.UnescapeDataString(p.Value));
        var canonicalQuery = string.Join('&', parameters.Where(p => p.Name != "X-Goog-Signature").Select(p => p.Name + "=" + p.Value));
        var canonicalRequest = $"GET\n{url.AbsolutePath}\n{canonicalQuery}\nhost:{url.Host}\n\nhost\nUNSIGNED-PAYLOAD";
        var scope = values["X-Goog-Credential"][(values["X-Goog-Credential"].IndexOf('/', StringComparison.Ordinal) + 1)..];
        var stringToSign = $"GOOG4-RSA-SHA256\n{values["X-Goog-Date"]}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        return key.VerifyData(Encoding.UTF8.GetBytes(stringToSign), Convert.FromHexString(values["X-Goog-Signature"]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    private static List<(string Name, string Value)> Parameters(Uri url) =>
        url.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).Select(p => (p[0], p[1])).ToList();
}
