using System.CommandLine;
using Writeback.Cli;

var root = new RootCommand("Writeback: reverse ETL from a warehouse's aggregates into a product PostgreSQL database.");
foreach (var command in CliCommands.All())
{
    root.Subcommands.Add(command);
}

// `--input @file.json` is ours to read, not a System.CommandLine response file.
return await root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null }).InvokeAsync();
