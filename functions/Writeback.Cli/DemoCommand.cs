using System.CommandLine;

namespace Writeback.Cli;

internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Run a batch through the whole path: warehouse → Parquet shards → event → trigger → state machine → PostgreSQL.");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("writeback demo: the end-to-end flow is not built yet (issue 5).");
            return 3;
        });
        return command;
    }
}
