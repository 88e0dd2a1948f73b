using System.CommandLine;
using Writeback.Cli;

// Local runs export the same spans as the cloud when OTEL_TRACES_EXPORTER=console or an OTLP endpoint is set.
using var tracing = Writeback.Observability.Telemetry.TelemetrySetup.Start("writeback-cli");
var root = new RootCommand("Writeback: reverse ETL from a warehouse's aggregates into a product PostgreSQL database.");
foreach (var command in CliCommands.All())
{
    root.Subcommands.Add(command);
}

// `--input @file.json` is ours to read, not a System.CommandLine response file.
return await root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null }).InvokeAsync();
