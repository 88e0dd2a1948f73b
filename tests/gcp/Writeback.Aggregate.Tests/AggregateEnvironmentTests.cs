namespace Writeback.Aggregate.Tests;

public sealed class AggregateEnvironmentTests
{
    private static readonly Dictionary<string, string> Cloud = new()
    {
        ["GOOGLE_CLOUD_PROJECT"] = "my-project",
        ["WRITEBACK_BQ_DATASET"] = "warehouse",
        ["WRITEBACK_BUCKET"] = "my-bucket",
    };

    private static Func<string, string?> With(params (string Name, string Value)[] extra)
    {
        var all = new Dictionary<string, string>(Cloud);
        foreach (var (name, value) in extra)
        {
            all[name] = value;
        }

        return name => all.GetValueOrDefault(name);
    }

    private static string? Get(Func<string, string?> environment, string name) => environment(name);

    private static string Require(Func<string, string?> environment, string name) => environment(name) ?? throw new InvalidOperationException(name);

    [Fact]
    public void Signed_urls_live_six_hours_by_default_as_infra_and_the_readme_say()
    {
        var environment = With();
        var options = AggregateEnvironment.CloudExport(n => Get(environment, n), n => Require(environment, n));
        Assert.Equal(TimeSpan.FromHours(6), options.SignedUrlLifetime);
    }

    [Fact]
    public void Signed_url_hours_are_read_from_the_environment()
    {
        var environment = With(("WRITEBACK_SIGNED_URL_HOURS", "1.5"));
        Assert.Equal(TimeSpan.FromMinutes(90), AggregateEnvironment.CloudExport(n => Get(environment, n), n => Require(environment, n)).SignedUrlLifetime);
    }

    [Theory]
    [InlineData("twelve")]
    [InlineData("0")]
    [InlineData("169")]
    public void Signed_url_hours_that_are_not_a_v4_lifetime_are_refused_with_the_variable_named(string hours)
    {
        var environment = With(("WRITEBACK_SIGNED_URL_HOURS", hours));
        var error = Assert.Throws<InvalidOperationException>(() => AggregateEnvironment.CloudExport(n => Get(environment, n), n => Require(environment, n)));
        Assert.Contains("WRITEBACK_SIGNED_URL_HOURS", error.Message, StringComparison.Ordinal);
        Assert.Contains(hours, error.Message, StringComparison.Ordinal);
    }
}
