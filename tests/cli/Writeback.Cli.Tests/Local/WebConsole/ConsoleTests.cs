using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Writeback.Aggregate;
using Writeback.Aggregate.Warehouse;
using Writeback.Cli.Local;
using Writeback.Testing;

namespace Writeback.Cli.Tests.Local.WebConsole;

/// <summary>The local console in headless Chromium, driven as a person would: the form, the buttons, the graph.</summary>
public sealed class ConsoleTests(ConsoleHost host) : IClassFixture<ConsoleHost>
{
    /// <summary>The engine's own redrive case (AwsCliTests): item 2 fails until the execution is redriven.</summary>
    private const string MapFailingOnFirstRun = """
        {"StartAt":"Before","States":{
          "Before":{"Type":"Pass","Result":{"items":[1,2,3]},"Next":"Each"},
          "Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":1,"End":true,
            "ItemProcessor":{"StartAt":"Check","States":{
              "Check":{"Type":"Choice","Choices":[{"And":[{"Variable":"$","NumericEquals":2},{"Variable":"$$.Execution.RedriveCount","NumericEquals":0}],"Next":"Boom"}],"Default":"Done"},
              "Boom":{"Type":"Fail","Error":"Item.Failed"},
              "Done":{"Type":"Pass","End":true}}}}}}
        """;

    [Fact]
    public async Task A_run_started_from_the_form_finishes_with_every_state_it_passed_green_and_its_batch_counts_beside_it()
    {
        var export = await host.ExportAsync("class_summary");
        var page = await host.NewPageAsync();

        await page.GotoAsync(host.Aws.ConsoleUrl.ToString());
        await page.ClickAsync("text=writeback-dev");
        await page.FillAsync("#start-name", export.BatchId);
        await page.FillAsync("#start-input", new JsonObject { ["manifestUri"] = export.ManifestUri, ["batchId"] = export.BatchId, ["dataset"] = export.Dataset }.ToJsonString());
        await page.ClickAsync("#start-execution");
        await page.WaitForSelectorAsync("#execution-status [data-status=SUCCEEDED]", new() { Timeout = 45_000 });
        await page.WaitForSelectorAsync("#batch-status [data-status=applied]");
        await host.ScreenshotAsync(page, "console-succeeded");

        foreach (var state in new[] { "Start", "Prepare", "Adopt batch", "Route", "Load shards", "Load shard", "Verify", "Publish", "Clean up", "Report" })
        {
            Assert.Equal("succeeded", await StatusOfAsync(page, state));
        }

        Assert.Equal("not-reached", await StatusOfAsync(page, "Fail with the original error"));
        Assert.Equal(0, await page.Locator("svg.graph g.state:is(.failed, .caught, .running, .cancelled)").CountAsync());
        Assert.Equal($"Load shards: {export.Shards} of {export.Shards} iterations done, 0 failed, 0 running", await page.InnerTextAsync("[data-map='Load shards']"));
        Assert.Equal(export.Rows.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), await page.InnerTextAsync("#batch-rows [data-count=inserted]"));
        Assert.Equal(["prepare", "load-shard", "verify", "publish", "cleanup"], await page.Locator("#batch-steps tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.step)"));
        Assert.Matches("^(met|late)", await page.InnerTextAsync("#batch-deadline"));
        Assert.True(await page.Locator("#events [data-event-type=ExecutionSucceeded]").CountAsync() == 1);
    }

    [Fact]
    public async Task A_failed_run_redriven_from_its_page_runs_its_failed_map_iteration_again_and_succeeds()
    {
        host.Aws.StepFunctions.Service.CreateStateMachine("console-redrive", MapFailingOnFirstRun);
        var page = await host.NewPageAsync();

        await page.GotoAsync(host.Aws.ConsoleUrl.ToString());
        await page.ClickAsync("text=console-redrive");
        await page.FillAsync("#start-name", "redrive-1");
        await page.ClickAsync("#start-execution");
        await page.WaitForSelectorAsync("#execution-status [data-status=FAILED]");
        await host.ScreenshotAsync(page, "console-failed");

        Assert.Equal("failed", await StatusOfAsync(page, "Boom"));
        Assert.Equal("failed", await StatusOfAsync(page, "Each"));
        Assert.Equal("Each: 1 of 3 iterations done, 1 failed, 0 running", await page.InnerTextAsync("[data-map=Each]"));
        Assert.Equal("Item.Failed", await page.InnerTextAsync("#execution-error"));

        await page.ClickAsync("#redrive");
        await page.WaitForSelectorAsync("#execution-status [data-status=SUCCEEDED]");
        await host.ScreenshotAsync(page, "console-redriven");

        foreach (var state in new[] { "Before", "Each", "Check", "Done" })
        {
            Assert.Equal("succeeded", await StatusOfAsync(page, state));
        }

        Assert.Equal("not-reached", await StatusOfAsync(page, "Boom"));
        Assert.Equal("Each: 3 of 3 iterations done, 0 failed, 0 running", await page.InnerTextAsync("[data-map=Each]"));
        Assert.Equal(1, await page.Locator("#events [data-event-type=ExecutionRedriven]").CountAsync());
        Assert.True(await page.IsDisabledAsync("#redrive"));
    }

    [Fact]
    public async Task A_running_execution_stopped_from_its_page_is_aborted_and_the_state_it_waited_in_is_cancelled()
    {
        host.Aws.StepFunctions.Service.CreateStateMachine("console-stop", """{"StartAt":"Wait a minute","States":{"Wait a minute":{"Type":"Wait","Seconds":60,"End":true}}}""");
        var page = await host.NewPageAsync();

        await page.GotoAsync(host.Aws.ConsoleUrl.ToString());
        await page.ClickAsync("text=console-stop");
        await page.FillAsync("#start-name", "stop-1");
        await page.ClickAsync("#start-execution");
        await page.WaitForSelectorAsync("svg.graph g.state[data-state='Wait a minute'][data-status=running]");
        await page.ClickAsync("#stop");
        await page.WaitForSelectorAsync("#execution-status [data-status=ABORTED]");

        Assert.Equal("cancelled", await StatusOfAsync(page, "Wait a minute"));
        Assert.True(await page.IsDisabledAsync("#stop"));
        Assert.Equal(1, await page.Locator("#events [data-event-type=ExecutionAborted]").CountAsync());
    }

    [Fact]
    public async Task An_input_carrying_markup_is_shown_as_text_and_never_runs_and_the_run_it_fails_shows_the_catch()
    {
        const string hostile = "file:///nowhere/<script>window.injected = 1</script><img src=x onerror=\"window.injected = 2\">/manifest.json";
        var page = await host.NewPageAsync();

        await page.GotoAsync(host.Aws.ConsoleUrl.ToString());
        await page.ClickAsync("text=writeback-dev");
        await page.FillAsync("#start-name", "hostile-1");
        await page.FillAsync("#start-input", new JsonObject { ["manifestUri"] = hostile, ["note"] = "<b id=bold>not bold</b>" }.ToJsonString());
        await page.ClickAsync("#start-execution");
        await page.WaitForSelectorAsync("#execution-status [data-status=FAILED]", new() { Timeout = 30_000 });
        // The history is listed with every event's input and output; open one so the screenshot shows it.
        await page.ClickAsync("#events [data-event-type=TaskStateEntered] summary");
        await host.ScreenshotAsync(page, "console-hostile-input");

        Assert.Contains("<script>window.injected = 1</script>", await page.InnerTextAsync("#execution-input"), StringComparison.Ordinal);
        Assert.Contains("<b id=bold>", await page.InnerTextAsync("#events [data-event-type=TaskStateEntered] .event-input"), StringComparison.Ordinal);
        Assert.Null(await page.EvaluateAsync<int?>("window.injected ?? null"));
        Assert.Equal(0, await page.Locator("script:not([src]), img, #bold").CountAsync());
        Assert.Equal("caught", await StatusOfAsync(page, "Prepare"));
        Assert.Equal("succeeded", await StatusOfAsync(page, "Clean up after failure"));
        Assert.Equal("failed", await StatusOfAsync(page, "Fail with the original error"));
        Assert.Equal("not-reached", await StatusOfAsync(page, "Verify"));

        await page.ClickAsync(".crumbs a:nth-of-type(2)");
        await page.SelectOptionAsync("#status-filter", "FAILED");
        await page.WaitForSelectorAsync("#executions [data-execution=hostile-1]");
        Assert.Equal(["FAILED"], (await page.Locator("#executions td .status").AllInnerTextsAsync()).Select(s => s.ToUpperInvariant()).Distinct());
    }

    private static Task<string?> StatusOfAsync(IPage page, string state) =>
        page.Locator($"svg.graph g.state[data-state='{state}']").GetAttributeAsync("data-status");
}

/// <summary>
/// One AWS side (serve's, with its own database so batches really load) and one headless Chromium for the class: the
/// browser is what costs, and pages are cheap.
/// </summary>
public sealed class ConsoleHost : IAsyncLifetime
{
    private static readonly DateOnly Day = new(2026, 11, 25);
    private readonly PostgresDatabase _database = new();
    private readonly string _state = Directory.CreateTempSubdirectory("writeback-console-test-").FullName;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private LocalAwsSide? _aws;

    internal LocalAwsSide Aws => _aws ?? throw new InvalidOperationException("The fixture has not been initialised.");

    /// <summary>Where screenshots go: the test script's results folder, else beside the test assembly.</summary>
    private static string Screenshots => Path.Combine(
        Environment.GetEnvironmentVariable("WRITEBACK_TEST_RESULTS") is { Length: > 0 } results ? results : Path.Combine(AppContext.BaseDirectory, "TestResults"),
        "console");

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        _aws = await LocalAwsSide.StartAsync(
            new LocalAwsSideOptions
            {
                ConnectionString = _database.ConnectionString,
                IssuerKeyPath = Path.Combine(_state, "oidc.pem"),
                ExportsFolder = Path.Combine(_state, "exports"),
                // The console reads the engine and run history; how the handlers are hosted is not what is tested here.
                Lambda = LambdaMode.InProcess,
            },
            CancellationToken.None);
        // The package's driver runs from the build output; the browser is the machine's, never one downloaded.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = SystemChromium.Executable, Headless = true, Args = ["--no-sandbox"] });
    }

    public async Task<IPage> NewPageAsync()
    {
        var context = await _browser!.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    public async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
    }

    /// <summary>A batch exported to the local folder and not published: the console is what starts it.</summary>
    public Task<AggregateResult> ExportAsync(string dataset)
    {
        var warehouse = Path.Combine(_state, "warehouse.duckdb");
        SampleWarehouse.Ensure(warehouse, SampleWarehouse.DefaultSeed, WarehouseSize.Small, Day);
        var options = new LocalAggregateOptions { WarehousePath = warehouse, OutputRoot = Path.Combine(_state, "exports") };
        return AggregateRunner.CreateLocal(options).RunAsync(dataset, Day);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_aws is not null)
        {
            await _aws.DisposeAsync();
        }

        await _database.DisposeAsync();
        Directory.Delete(_state, recursive: true);
    }
}
