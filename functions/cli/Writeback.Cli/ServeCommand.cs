using System.CommandLine;
using Writeback.Cli.Local;

namespace Writeback.Cli;

internal static class ServeCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Loopback port for the trigger's Function URL; 0 picks a free one.", DefaultValueFactory = _ => 0 };
        var sfnPort = new Option<int>("--sfn-port") { Description = "Loopback port for the Step Functions endpoint; 0 picks a free one.", DefaultValueFactory = _ => 0 };
        var artifacts = new Option<string?>("--artifacts") { Description = "Run the functions from the Native AOT bootstrap in this folder (./writeback build-artifacts linux-x64 writes artifacts/linux-x64), exactly as deployed; default: the writers' JIT build." };
        var command = new Command("serve", "Host the AWS side on loopback: the trigger's Function URL, a Step Functions endpoint running the workflow, and the functions as processes behind the local Lambda Invoke API.") { port, sfnPort, artifacts };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (await CliDatabase.RequireAsync("serve", cancellationToken) is not { } connectionString)
            {
                return 2;
            }

            using var functionLog = FunctionLog.Open(Path.Combine(ProjectPaths.State, "functions.log"));
            LocalPubSubOptions pubsubOptions;
            try
            {
                pubsubOptions = new LocalPubSubOptions { Mode = LocalPubSubOptions.ModeFrom(Environment.GetEnvironmentVariable) };
            }
            catch (PubSubEmulatorException e)
            {
                Console.Error.WriteLine($"writeback serve: {e.Message}.");
                return 2;
            }

            // The emulator's JVM takes seconds to start: beside the AWS side's function processes, not after them.
            var emulator = LocalPubSub.StartEmulatorAsync(pubsubOptions, cancellationToken);
            LocalAwsSide aws;
            try
            {
                aws = await LocalPubSub.BesideEmulatorAsync(emulator, pubsubOptions, () => LocalAwsSide.StartAsync(
                    new LocalAwsSideOptions
                    {
                        ConnectionString = connectionString,
                        Port = parse.GetValue(port),
                        StepFunctionsPort = parse.GetValue(sfnPort),
                        IssuerKeyPath = ProjectPaths.IssuerKey(ProjectPaths.State),
                        ExportsFolder = ProjectPaths.Exports(ProjectPaths.State),
                        HistoryFolder = ProjectPaths.ExecutionHistories(ProjectPaths.State),
                        S3Folder = ProjectPaths.LocalS3(ProjectPaths.State),
                        Lambda = parse.GetValue(artifacts) is null ? LambdaMode.JitProcesses : LambdaMode.ArtifactProcesses,
                        Artifacts = parse.GetValue(artifacts),
                        FunctionLog = functionLog.Write,
                        DurableExecutions = true,
                        Host = "writeback serve",
                        Log = line => Console.Error.WriteLine($"writeback serve: {line}"),
                    },
                    cancellationToken));
            }
            catch (Writeback.StepFunctions.Local.Journal.JournalInUseException e)
            {
                Console.Error.WriteLine($"writeback serve: {e.Message}.");
                return 2;
            }

            await using var awsSide = aws;
            LocalPubSub connected;
            try
            {
                connected = await LocalPubSub.ConnectAsync(pubsubOptions, await emulator, aws.TriggerUrl, aws.Issuer, cancellationToken);
            }
            catch (PubSubEmulatorException e)
            {
                Console.Error.WriteLine($"writeback serve: {e.Message}.");
                return 2;
            }

            await using var pubsub = connected;
            var urlFile = Path.Combine(ProjectPaths.State, "serve.url");
            await File.WriteAllTextAsync(urlFile, aws.TriggerUrl.ToString(), cancellationToken);
            var pubsubFile = ServePubSubFile.Path;
            if (pubsub.UsesEmulator)
            {
                await ServePubSubFile.WriteAsync(pubsub.PublisherEnvironment, cancellationToken);
                pubsub.Delivered += d => Console.Error.WriteLine($"writeback serve: the emulator pushed an event; the trigger answered {d.StatusCode}{(d.StatusCode is >= 200 and < 300 ? "" : " (the emulator will retry)")}");
            }

            aws.Engine.ExecutionStarted += e => Console.Error.WriteLine($"writeback serve: started execution {e.Name}");
            Console.Error.WriteLine($"writeback serve: resumed {aws.Resumed.Count} running execution(s) from the journal (schema writeback_sfn){(aws.Resumed.Count == 0 ? "" : ": " + string.Join(", ", aws.Resumed.Select(e => e.Name)))}");

            Console.Out.WriteLine(aws.TriggerUrl);
            // Scripts read the URL from a pipe while we keep running: don't leave it in a buffer.
            await Console.Out.FlushAsync(cancellationToken);
            Console.Error.WriteLine($"writeback serve: trigger listening on {aws.TriggerUrl} (POST a Pub/Sub push envelope with an OIDC bearer token)");
            Console.Error.WriteLine($"writeback serve: {pubsub.Description}");
            if (pubsub.UsesEmulator)
            {
                Console.Error.WriteLine($"writeback serve:   any Pub/Sub client publishes there with {string.Join(" ", pubsub.PublisherEnvironment.Select(v => $"{v.Key}={v.Value}"))} (also in {Path.GetRelativePath(ProjectPaths.Root, pubsubFile)})");
            }

            var sfn = aws.StepFunctions.Url.ToString().TrimEnd('/');
            Console.Error.WriteLine($"writeback serve: Step Functions endpoint {sfn} (state machine {aws.StateMachine.Arn})");
            Console.Error.WriteLine($"writeback serve:   e.g. AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION={aws.Engine.Options.Region} aws stepfunctions list-executions --endpoint-url {sfn} --state-machine-arn {aws.StateMachine.Arn}");
            Console.Error.WriteLine($"writeback serve: console {aws.ConsoleUrl} (state machines, executions, start / stop / redrive, each batch's run history)");
            Console.Error.WriteLine($"writeback serve: functions: {aws.Lambda.Description}; their output goes to {Path.GetRelativePath(ProjectPaths.Root, functionLog.Path)}");
            Console.Error.WriteLine($"writeback serve: executions also at {aws.TriggerUrl}executions/<name>; histories in {Path.GetRelativePath(ProjectPaths.Root, ProjectPaths.ExecutionHistories(ProjectPaths.State))}");
            Console.Error.WriteLine("writeback serve: push a batch with `./writeback aggregate --dataset student_dashboard --date YYYY-MM-DD`; Ctrl-C stops.");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C: the normal way to stop.
            }
            finally
            {
                File.Delete(urlFile);
                File.Delete(pubsubFile);
            }

            return 0;
        });
        return command;
    }
}
