using Amazon.Runtime;
using Writeback.Trigger.Executions;

namespace Writeback.Trigger.Tests.Executions;

/// <summary>The endpoint and keys come from the AWS SDKs' standard variables, through the environment seam.</summary>
public sealed class StepFunctionsOptionsTests
{
    private const string Arn = "arn:aws:states:us-east-1:000000000000:stateMachine:writeback-dev";

    private static StepFunctionsOptions Read(params (string Name, string Value)[] variables)
    {
        var values = variables.ToDictionary(v => v.Name, v => v.Value);
        return StepFunctionsOptions.FromEnvironment(name => values.GetValueOrDefault(name), Arn, "us-east-1");
    }

    [Fact]
    public void The_service_specific_endpoint_variable_wins_over_the_global_one()
    {
        var options = Read(("AWS_ENDPOINT_URL", "http://127.0.0.1:1/"), ("AWS_ENDPOINT_URL_SFN", "http://127.0.0.1:2/"));

        Assert.Equal(new Uri("http://127.0.0.1:2/"), options.Endpoint);
    }

    [Fact]
    public void The_global_endpoint_variable_is_used_when_no_service_specific_one_is_set()
    {
        Assert.Equal(new Uri("http://127.0.0.1:1/"), Read(("AWS_ENDPOINT_URL", "http://127.0.0.1:1/")).Endpoint);
    }

    [Fact]
    public void Without_overrides_or_with_them_ignored_the_regional_endpoint_and_the_sdk_credential_chain_are_used()
    {
        var none = Read();
        var ignored = Read(("AWS_ENDPOINT_URL_SFN", "http://127.0.0.1:2/"), ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"));

        Assert.Null(none.Endpoint);
        Assert.Null(none.Credentials);
        Assert.Null(ignored.Endpoint);
    }

    [Fact]
    public void Keys_in_the_environment_sign_the_requests()
    {
        var options = Read(("AWS_ACCESS_KEY_ID", "AKIDLOCAL"), ("AWS_SECRET_ACCESS_KEY", "secret"));

        var credentials = Assert.IsType<BasicAWSCredentials>(options.Credentials);
        Assert.Equal("AKIDLOCAL", credentials.GetCredentials().AccessKey);
    }

    [Fact]
    public void An_endpoint_override_that_is_not_an_http_url_is_refused_at_start()
    {
        Assert.Throws<InvalidOperationException>(() => Read(("AWS_ENDPOINT_URL_SFN", "states.local")));
    }
}
