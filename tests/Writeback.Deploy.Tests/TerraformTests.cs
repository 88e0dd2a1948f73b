using System.Text.Json.Nodes;

namespace Writeback.Deploy.Tests;

/// <summary>infra/ (GCP), checked without a cloud or the providers: formatting, parsing, documentation, wiring.</summary>
public sealed class TerraformTests
{
    private const string TerraformHint =
        "Install Terraform >= 1.5 (the `terraform` binary on PATH; on this project's machines it is /usr/local/bin/terraform).";

    private static Lazy<Dictionary<string, JsonObject>> Parsed => Terraform.Parsed;

    private static List<string> TfFiles() => Terraform.TfFiles();

    private static IEnumerable<(string Name, JsonObject Body)> Blocks(params string[] path) => Terraform.Blocks(path);

    private static JsonObject Single(string type, string name) =>
        Assert.Single(Blocks("resource", type), b => b.Name == name).Body;

    [Fact]
    public void Terraform_files_are_formatted()
    {
        var result = Repo.Run("terraform", ["fmt", "-check", "-recursive", "-diff", "infra"], TerraformHint);
        Assert.True(result.ExitCode == 0, $"terraform fmt -check failed; run `terraform fmt -recursive infra`:\n{result.Output}");
    }

    [Fact]
    public void Every_tf_file_parses()
    {
        Assert.Equal(TfFiles().Count, Parsed.Value.Count);
        foreach (var (file, json) in Parsed.Value)
        {
            Assert.True(json["error"] is null, $"{file} does not parse: {json["error"]}");
        }
    }

    [Fact]
    public void Every_variable_and_output_has_a_description()
    {
        var variables = Blocks("variable").ToList();
        var outputs = Blocks("output").ToList();
        Assert.NotEmpty(variables);
        Assert.NotEmpty(outputs);
        Assert.All(variables, v => Assert.False(string.IsNullOrWhiteSpace((string?)v.Body["description"]), $"variable {v.Name} has no description"));
        Assert.All(outputs, o => Assert.False(string.IsNullOrWhiteSpace((string?)o.Body["description"]), $"output {o.Name} has no description"));
    }

    [Fact]
    public void Providers_are_pinned()
    {
        var terraform = Assert.Single(Parsed.Value.Values.SelectMany(f => (f["terraform"] as JsonArray ?? []).OfType<JsonObject>()));
        Assert.NotNull(terraform["required_version"]);
        var providers = ((JsonArray)terraform["required_providers"]!).OfType<JsonObject>().SelectMany(p => p).ToList();
        Assert.NotEmpty(providers);
        Assert.All(providers, p => Assert.False(string.IsNullOrWhiteSpace((string?)p.Value?["version"]), $"provider {p.Key} has no version constraint"));
    }

    [Fact]
    public void Pub_sub_pushes_to_the_trigger_with_an_oidc_token_for_the_stacks_audience()
    {
        var subscription = Single("google_pubsub_subscription", "trigger_push");
        var push = subscription["push_config"]![0]!;
        Assert.Equal("${var.trigger_url}", (string?)push["push_endpoint"]);
        var oidc = push["oidc_token"]![0]!;
        Assert.Equal("${google_service_account.push.email}", (string?)oidc["service_account_email"]);
        Assert.Equal("${var.push_audience}", (string?)oidc["audience"]);
        Assert.NotNull(subscription["retry_policy"]);
    }

    [Fact]
    public void Undeliverable_events_go_to_a_dead_letter_topic_that_pub_sub_may_use()
    {
        var subscription = Single("google_pubsub_subscription", "trigger_push");
        var policy = subscription["dead_letter_policy"]![0]!;
        Assert.Equal("${google_pubsub_topic.batch_ready_dead_letter.id}", (string?)policy["dead_letter_topic"]);
        var publisher = Single("google_pubsub_topic_iam_member", "dead_letter_publisher");
        Assert.Equal("roles/pubsub.publisher", (string?)publisher["role"]);
        Assert.Equal("${local.pubsub_service_agent}", (string?)publisher["member"]);
        var subscriber = Single("google_pubsub_subscription_iam_member", "source_subscriber");
        Assert.Equal("roles/pubsub.subscriber", (string?)subscriber["role"]);
        Assert.Equal("${local.pubsub_service_agent}", (string?)subscriber["member"]);
        Assert.Contains(Blocks("resource", "google_pubsub_subscription"),
            s => (string?)s.Body["topic"] == "${google_pubsub_topic.batch_ready_dead_letter.id}");
    }

    [Theory]
    [InlineData("google_project_iam_member", "roles/bigquery.jobUser")]
    [InlineData("google_bigquery_dataset_iam_member", "roles/bigquery.dataViewer")]
    [InlineData("google_storage_bucket_iam_member", "roles/storage.objectAdmin")]
    [InlineData("google_service_account_iam_member", "roles/iam.serviceAccountTokenCreator")]
    [InlineData("google_pubsub_topic_iam_member", "roles/pubsub.publisher")]
    public void The_aggregate_service_account_has_each_role_it_needs(string type, string role)
    {
        Assert.Contains(Blocks("resource", type),
            b => (string?)b.Body["role"] == role && (string?)b.Body["member"] == "${google_service_account.aggregate.member}");
    }

    [Fact]
    public void The_aggregate_function_signs_urls_as_itself_and_no_other_account()
    {
        var signer = Single("google_service_account_iam_member", "aggregate_signs_as_itself");
        Assert.Equal("${google_service_account.aggregate.name}", (string?)signer["service_account_id"]);
        var service = Single("google_cloud_run_v2_service", "aggregate");
        Assert.Equal("${google_service_account.aggregate.email}", (string?)service["template"]![0]!["service_account"]);
    }

    [Fact]
    public void Shards_expire_from_the_bucket()
    {
        var bucket = Single("google_storage_bucket", "shards");
        Assert.Contains(((JsonArray)bucket["lifecycle_rule"]!).OfType<JsonObject>(),
            r => (string?)r["action"]![0]!["type"] == "Delete" && r["condition"]![0]!["age"] is not null);
        Assert.Equal("enforced", (string?)bucket["public_access_prevention"]);
    }

    [Fact]
    public void The_scheduler_exists_only_when_enabled()
    {
        foreach (var type in new[] { "google_cloud_scheduler_job", "google_service_account", "google_cloud_run_v2_service_iam_member" })
        {
            foreach (var (name, body) in Blocks("resource", type).Where(b => b.Name.Contains("scheduler", StringComparison.Ordinal) || type.Contains("scheduler", StringComparison.Ordinal)))
            {
                Assert.True((string?)body["count"] == "${var.enable_scheduler ? 1 : 0}", $"{type}.{name} is not conditional on enable_scheduler");
            }
        }

        Assert.Single(Blocks("resource", "google_cloud_scheduler_job"));
    }
}
