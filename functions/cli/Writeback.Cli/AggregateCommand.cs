using System.CommandLine;
using System.Text.Json.Nodes;
using Writeback.Aggregate;
using Writeback.Aggregate.Cloud;
using Writeback.Aggregate.Export;
using Writeback.Aggregate.Publishing;
using Writeback.Aggregate.Warehouse;
using Writeback.Cli.Local;
using Writeback.Trigger.Auth;
using Writeback.Trigger.Local;

namespace Writeback.Cli;

internal static class AggregateCommand
{
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = "The dataset to aggregate (a model in sql/models).", Required = true };
        var date = new Option<string?>("--date") { Description = "Business date (yyyy-MM-dd); default: yesterday in the time zone of the dataset's deadline (targets/), the day the SLO check expects." };
        var size = new Option<string>("--size") { Description = "Sample warehouse size: small, medium or large.", DefaultValueFactory = _ => "small" };
        var seed = new Option<long>("--seed") { Description = "Seed of the generated sample warehouse.", DefaultValueFactory = _ => SampleWarehouse.DefaultSeed };
        var push = new Option<string?>("--push-url") { Description = "Push the batch-ready event straight to this trigger URL (the built-in push); default: publish to the Pub/Sub emulator of PUBSUB_EMULATOR_HOST or of the running `writeback serve`, else push to that serve's trigger, else no event." };
        var command = new Command("aggregate", "Run the GCP side once: aggregate, export Parquet shards and a manifest, publish the batch-ready event.")
        {
            dataset, date, size, seed, push,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!WarehouseSizes.TryParse(parse.GetValue(size), out var warehouseSize))
            {
                Console.Error.WriteLine($"writeback aggregate: --size must be small, medium or large, not '{parse.GetValue(size)}'.");
                return 2;
            }

            if (!CliDates.TryParseBusinessDate(parse.GetValue(date), parse.GetValue(dataset)!, DateTimeOffset.UtcNow, out var businessDate, out var dateError))
            {
                Console.Error.WriteLine($"writeback aggregate: {dateError}");
                return 2;
            }

            // An explicit push URL wins; then the emulator named the way Google's libraries look for it; then serve's.
            var pushUrl = parse.GetValue(push);
            var emulator = pushUrl is null
                ? PubSubEmulatorTopic.FromEnvironment(Environment.GetEnvironmentVariable)
                    ?? (ServePubSubFile.Read() is { } serve ? PubSubEmulatorTopic.FromEnvironment(serve.GetValueOrDefault) : null)
                : null;
            pushUrl ??= emulator is null ? ServeUrl() : null;
            var seedValue = parse.GetValue(seed);
            var warehousePath = ProjectPaths.Warehouse(ProjectPaths.State, warehouseSize, seedValue);
            Console.Error.WriteLine($"writeback aggregate: preparing the {warehouseSize.Name()} sample warehouse ({Path.GetRelativePath(ProjectPaths.Root, warehousePath)})");
            Directory.CreateDirectory(ProjectPaths.State);
            SampleWarehouse.Ensure(warehousePath, seedValue, warehouseSize, businessDate);

            using var issuer = LocalOidcIssuer.LoadOrCreate(ProjectPaths.IssuerKey(ProjectPaths.State));
            var runner = AggregateRunner.CreateLocal(
                new LocalAggregateOptions
                {
                    WarehousePath = warehousePath,
                    OutputRoot = ProjectPaths.Exports(ProjectPaths.State),
                    EmulatorTopic = emulator,
                    PushUrl = pushUrl is null ? null : new Uri(pushUrl),
                    PushAudience = pushUrl,
                },
                new IssuerTokenSource(issuer, LocalAwsSide.PushServiceAccount));
            Console.Error.WriteLine((emulator, pushUrl) switch
            {
                ({ } topic, _) => $"writeback aggregate: will publish the event to topic {topic.Topic} of the Pub/Sub emulator at {topic.Emulator.Authority} ({PubSubEmulatorTopic.HostVariable})",
                (null, { } url) => $"writeback aggregate: will push the event straight to {url} (the built-in push)",
                _ => "writeback aggregate: no `writeback serve` is running and neither --push-url nor PUBSUB_EMULATOR_HOST was given; exporting without publishing",
            });
            try
            {
                var result = await runner.RunAsync(parse.GetValue(dataset)!, businessDate, cancellationToken);
                Console.Out.WriteLine(new JsonObject
                {
                    ["batchId"] = result.BatchId,
                    ["dataset"] = result.Dataset,
                    ["partition"] = result.Partition,
                    ["manifestUri"] = result.ManifestUri,
                    ["shards"] = result.Shards,
                    ["rows"] = result.Rows,
                    ["bytes"] = result.Bytes,
                    ["published"] = result.MessageId is not null,
                    ["messageId"] = result.MessageId,
                }.ToJsonString(ExecutionReport.Indented));
                return 0;
            }
            catch (AggregateInputException e)
            {
                Console.Error.WriteLine($"writeback aggregate: {e.Message}");
                return 2;
            }
            catch (Exception e) when (e is PublishException or GoogleApiException or HttpRequestException)
            {
                Console.Error.WriteLine($"writeback aggregate: the batch was exported but publishing the event failed: {e.Message}{(e is HttpRequestException ? " (is `writeback serve` still running?)" : "")}");
                return 1;
            }
        });
        return command;
    }

    private static string? ServeUrl()
    {
        var file = Path.Combine(ProjectPaths.State, "serve.url");
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }
}
