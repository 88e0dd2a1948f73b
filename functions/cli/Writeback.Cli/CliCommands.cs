using System.CommandLine;

namespace Writeback.Cli;

/// <summary>Every sub-command the CLI offers; each command family lives in its own file.</summary>
internal static class CliCommands
{
    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return DryRunCommand.Create();
        yield return SfnCommand.Create();
        yield return ServeCommand.Create();
        yield return AggregateCommand.Create();
        yield return BackfillCommand.Create();
        yield return RollbackCommand.Create();
        yield return StatusCommand.Create();
        yield return SloCommand.Create();
        yield return ReportCommand.Create();
    }
}
