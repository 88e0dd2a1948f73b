using System.Globalization;
using System.Text.RegularExpressions;

namespace Writeback.Deploy.Tests;

/// <summary>A rollback needs the earlier batch's manifest and shards: the bucket must keep them as long as the README promises.</summary>
public sealed partial class RetentionTests
{
    [Fact]
    public void The_bucket_keeps_shards_at_least_as_long_as_the_rollback_window_the_README_promises()
    {
        var readme = File.ReadAllText(Repo.PathOf("README.md"));
        var promise = Window().Match(readme);
        Assert.True(promise.Success, "README.md must state the rollback window as 'Rollback window: **N days**'");
        var promised = int.Parse(promise.Groups[1].Value, CultureInfo.InvariantCulture);

        var retention = int.Parse(Terraform.Default("shard_retention_days")!.ToString(), CultureInfo.InvariantCulture);
        Assert.True(retention >= promised, $"shard_retention_days defaults to {retention} days; the README promises rollbacks for {promised}");

        // The default only counts if the bucket's lifecycle rule is the one using it.
        var bucket = Terraform.Resource("google_storage_bucket", "shards").ToJsonString();
        Assert.Contains("var.shard_retention_days", bucket, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"Rollback window: \*\*(\d+) days\*\*")]
    private static partial Regex Window();
}
