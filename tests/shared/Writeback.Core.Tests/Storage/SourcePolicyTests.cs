using Writeback.Core.Storage;

namespace Writeback.Core.Tests.Storage;

/// <summary>Which references the one source policy trusts, in the cloud and locally; nothing here reads a byte.</summary>
public sealed class SourcePolicyTests : IDisposable
{
    private const string Signature = "X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%2F20261125%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20261125T000000Z&X-Goog-Expires=43200&X-Goog-SignedHeaders=host&X-Goog-Signature=SECRETSIGNATURE";
    private const string Folder = "https://storage.googleapis.com/exports/writeback/student_dashboard/2026-11-25/run-1/";

    private static readonly SourcePolicy Cloud = SourcePolicy.Gcs("exports", "writeback");

    private readonly string _root = Directory.CreateTempSubdirectory("writeback-sources-").FullName;
    private readonly string _outside = Directory.CreateTempSubdirectory("writeback-outside-").FullName;

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    private static string Signed(string url) => url + "?" + Signature;

    private static string Refusal(SourcePolicy policy, string reference)
    {
        Assert.False(policy.TryManifest(reference, out _, out var problem), $"trusted: {reference}");
        Assert.DoesNotContain("SECRETSIGNATURE", problem, StringComparison.Ordinal);
        return problem;
    }

    [Fact]
    public void A_signed_url_of_the_bucket_under_the_prefix_is_trusted_and_described_without_its_query()
    {
        Assert.True(Cloud.TryManifest(Signed(Folder + "manifest.json"), out var location, out var problem), problem);

        Assert.Equal("gs://exports/writeback/student_dashboard/2026-11-25/run-1/", location.Folder);
        Assert.DoesNotContain("SECRET", location.Describe, StringComparison.Ordinal);
        Assert.Contains("SECRETSIGNATURE", location.Uri.Query, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://evil.example.com/exports/writeback/manifest.json", "not the storage endpoint")]
    [InlineData("https://storage.googleapis.com.evil.example/exports/writeback/manifest.json", "not the storage endpoint")]
    [InlineData("https://169.254.169.254/latest/meta-data/manifest.json", "link-local")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "link-local")]
    [InlineData("https://[fe80::1]/exports/writeback/manifest.json", "link-local")]
    [InlineData("https://127.0.0.1/exports/writeback/manifest.json", "loopback")]
    [InlineData("https://localhost:9000/exports/writeback/manifest.json", "loopback")]
    [InlineData("https://10.0.0.7/exports/writeback/manifest.json", "private")]
    [InlineData("http://storage.googleapis.com/exports/writeback/manifest.json", "not the storage endpoint")]
    [InlineData("https://storage.googleapis.com:8443/exports/writeback/manifest.json", "not the storage endpoint")]
    [InlineData("https://user@storage.googleapis.com/exports/writeback/manifest.json", "user information")]
    public void A_url_that_is_not_the_storage_endpoint_is_refused_in_the_cloud(string url, string reason)
    {
        Assert.Contains(reason, Refusal(Cloud, Signed(url)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("file:///proc/self/environ")]
    [InlineData("file:///dev/zero")]
    [InlineData("/etc/passwd")]
    public void Files_are_never_trusted_in_the_cloud(string reference)
    {
        Assert.Contains("never read here", Refusal(Cloud, reference), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://storage.googleapis.com/other-bucket/writeback/manifest.json", "bucket 'other-bucket'")]
    [InlineData("https://storage.googleapis.com/exports/elsewhere/manifest.json", "outside the configured prefix")]
    [InlineData("https://storage.googleapis.com/exports/writeback-evil/manifest.json", "outside the configured prefix")]
    [InlineData("https://storage.googleapis.com/exports/manifest.json", "outside the configured prefix")]
    [InlineData("https://storage.googleapis.com/exports/writeback/a/../../other/manifest.json", "relative step")]
    [InlineData("https://storage.googleapis.com/exports/writeback/%2e%2e/other/manifest.json", "relative step")]
    [InlineData("https://storage.googleapis.com/exports/writeback/a//manifest.json", "empty segments")]
    public void An_object_outside_the_bucket_and_prefix_is_refused(string url, string reason)
    {
        Assert.Contains(reason, Refusal(Cloud, Signed(url)), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unsigned_url_of_the_bucket_is_refused()
    {
        Assert.Contains("not a V4 signed URL", Refusal(Cloud, Folder + "manifest.json"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_megabyte_long_reference_is_refused_before_it_is_parsed_and_is_not_echoed()
    {
        var huge = Signed(Folder + new string('a', 1024 * 1024) + ".json");

        Assert.False(Cloud.TryManifest(huge, out _, out var problem));
        Assert.Contains("at most 4096", problem, StringComparison.Ordinal);
        Assert.True(problem.Length < 200, problem);
        var thrown = Assert.Throws<InvalidBatchException>(() => Cloud.Manifest(huge));
        Assert.True(thrown.Message.Length < 300, thrown.Message);
    }

    [Fact]
    public void A_shard_must_be_a_signed_url_in_its_manifests_folder_in_the_cloud()
    {
        var manifest = Cloud.Manifest(Signed(Folder + "manifest.json"));

        Assert.True(Cloud.TryShard(manifest, Signed(Folder + "shard-00000.parquet"), out _, out var problem), problem);
        Assert.False(Cloud.TryShard(manifest, Signed("https://storage.googleapis.com/exports/writeback/student_dashboard/2026-11-24/run-0/shard-00000.parquet"), out _, out problem));
        Assert.Contains("not beside its manifest", problem, StringComparison.Ordinal);
        Assert.False(Cloud.TryShard(manifest, Signed("https://evil.example.com/exports/writeback/student_dashboard/2026-11-25/run-1/shard-00000.parquet"), out _, out problem));
        Assert.Contains("not the storage endpoint", problem, StringComparison.Ordinal);
        Assert.False(Cloud.TryShard(manifest, "shard-00000.parquet", out _, out problem));
        Assert.Contains("every shard is a V4 signed URL", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("file:///proc/self/environ")]
    [InlineData("file:///dev/zero")]
    [InlineData("/etc/passwd")]
    public void A_file_outside_the_export_folder_is_refused_locally(string reference)
    {
        Assert.Contains("outside the export folder", Refusal(SourcePolicy.LocalFolder(_root), reference), StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_that_climbs_out_with_dot_dot_is_refused_locally()
    {
        var local = SourcePolicy.LocalFolder(_root);
        var climbing = Path.Combine(_root, "..", Path.GetFileName(_outside), "manifest.json");
        File.WriteAllText(Path.Combine(_outside, "manifest.json"), "{}");

        Assert.Contains("relative step", Refusal(local, climbing), StringComparison.Ordinal);
        Assert.Contains("relative step", Refusal(local, "file://" + climbing), StringComparison.Ordinal);
    }

    [Fact]
    public void A_symbolic_link_inside_the_export_folder_that_leads_out_of_it_is_refused()
    {
        var local = SourcePolicy.LocalFolder(_root);
        File.WriteAllText(Path.Combine(_outside, "manifest.json"), "{}");
        File.CreateSymbolicLink(Path.Combine(_root, "manifest.json"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(_root, "zero.json"), "/dev/zero");
        Directory.CreateSymbolicLink(Path.Combine(_root, "batch"), _outside);

        Assert.Contains("once its links are resolved", Refusal(local, Path.Combine(_root, "manifest.json")), StringComparison.Ordinal);
        Assert.Contains("once its links are resolved", Refusal(local, Path.Combine(_root, "zero.json")), StringComparison.Ordinal);
        Assert.Contains("once its links are resolved", Refusal(local, Path.Combine(_root, "batch", "manifest.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_symbolic_link_that_stays_inside_the_export_folder_is_followed()
    {
        var local = SourcePolicy.LocalFolder(_root);
        var real = Directory.CreateDirectory(Path.Combine(_root, "real")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(_root, "latest"), real);

        Assert.True(local.TryManifest(Path.Combine(_root, "latest", "manifest.json"), out var location, out var problem), problem);
        Assert.Equal(Path.Combine(real, "manifest.json"), location.LocalPath);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9000/batch/manifest.json")]
    [InlineData("https://storage.googleapis.com/exports/writeback/manifest.json")]
    public void Urls_are_refused_locally_unless_loopback_http_was_configured(string url)
    {
        Refusal(SourcePolicy.LocalFolder(_root), url);
    }

    [Fact]
    public void With_loopback_http_configured_a_local_run_still_refuses_other_hosts()
    {
        var local = SourcePolicy.LocalFolder(_root, allowLoopbackHttp: true);

        Assert.True(local.TryManifest("http://127.0.0.1:9000/batch/manifest.json", out _, out var problem), problem);
        Assert.Contains("loopback only", Refusal(local, "http://169.254.169.254/latest/meta-data/"), StringComparison.Ordinal);
        Assert.Contains("loopback only", Refusal(local, "https://evil.example.com/batch/manifest.json"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_local_shard_must_be_a_bare_name_or_a_path_in_its_manifests_folder()
    {
        var local = SourcePolicy.LocalFolder(_root);
        var batch = Directory.CreateDirectory(Path.Combine(_root, "batch")).FullName;
        var other = Directory.CreateDirectory(Path.Combine(_root, "other")).FullName;
        var manifest = local.Manifest(Path.Combine(batch, "manifest.json"));

        Assert.True(local.TryShard(manifest, "shard-00000.parquet", out var bare, out var problem), problem);
        Assert.Equal(Path.Combine(batch, "shard-00000.parquet"), bare.LocalPath);
        Assert.True(local.TryShard(manifest, Path.Combine(batch, "shard-00001.parquet"), out _, out problem), problem);
        Assert.False(local.TryShard(manifest, Path.Combine(other, "shard-00000.parquet"), out _, out problem));
        Assert.Contains("not beside its manifest", problem, StringComparison.Ordinal);
        Assert.False(local.TryShard(manifest, "sub/shard-00000.parquet", out _, out problem));
        Assert.Contains("bare file name", problem, StringComparison.Ordinal);
        Assert.False(local.TryShard(manifest, "../other/shard-00000.parquet", out _, out problem));
        Assert.False(local.TryShard(manifest, "file:///etc/passwd", out _, out problem));
        Assert.Contains("outside the export folder", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Deployed_hosts_build_a_cloud_policy_from_the_bucket_variable_and_refuse_to_start_without_it()
    {
        var policy = SourceEnvironment.Cloud(name => name == SourceEnvironment.BucketVariable ? "exports" : null);
        var missing = Assert.Throws<InvalidOperationException>(() => SourceEnvironment.Cloud(_ => null));

        Assert.True(policy.IsCloud);
        Assert.True(policy.TryManifest(Signed(Folder + "manifest.json"), out _, out var problem), problem);
        Assert.Contains("WRITEBACK_BUCKET", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Echoed_locations_carry_no_query_string_and_are_short()
    {
        var echoed = Echo.Location(Signed(Folder + new string('x', 500) + "/manifest.json"));

        Assert.DoesNotContain("X-Goog", echoed, StringComparison.Ordinal);
        Assert.EndsWith("/manifest.json", echoed, StringComparison.Ordinal);
        Assert.True(echoed.Length <= Echo.DefaultLength, echoed);
        Assert.Equal("abc…", Echo.Brief("abcdefgh", 4));
        Assert.Equal("a?b", Echo.Brief("a\nb"));
    }
}
