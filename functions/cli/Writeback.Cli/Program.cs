using System.CommandLine;
using Writeback.Cli;

// Local runs export the same spans as the cloud when OTEL_TRACES_EXPORTER=console or an OTLP endpoint is set.
using var tracing = Writeback.Telemetry.TelemetrySetup.Start("writeback-cli");
var root = new RootCommand("Writeback: reverse ETL from a warehouse's aggregates into a product PostgreSQL database.");
foreach (var command in CliCommands.All())
{
    root.Subcommands.Add(command);
}

// `--input @file.json` is ours to read, not a System.CommandLine response file.
var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
try
{
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (CliDatabase.Describe(e, Environment.GetEnvironmentVariable("WRITEBACK_PG")) is { } problem)
{
    // The server went away after the command had reached it: one line, not a stack trace. Anything else is a bug and shows its trace.
    await Console.Error.WriteLineAsync($"writeback {CommandPath(parse.CommandResult)}: {problem}");
    return 1;
}

// "slo check", not "check".
static string CommandPath(System.CommandLine.Parsing.CommandResult result) =>
    result.Parent is System.CommandLine.Parsing.CommandResult { Parent: not null } parent
        ? CommandPath(parent) + " " + result.Command.Name
        : result.Command.Name;
