using Writeback.Cli.Local;

namespace Writeback.Cli.Tests.Local;

/// <summary>
/// One Google Pub/Sub emulator for a test class: its JVM takes seconds to start, so tests share it and each uses a topic
/// of its own. None when the emulator is not installed (the tests then skip). Disposing it must leave no process behind.
/// </summary>
public sealed class PubSubEmulatorFixture : IAsyncLifetime
{
    internal PubSubEmulator? Emulator { get; private set; }

    public async Task InitializeAsync()
    {
        if (PubSubEmulator.Locate(out _) is { } gcloud)
        {
            Emulator = await PubSubEmulator.StartAsync(gcloud, CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        if (Emulator is { } emulator)
        {
            var session = emulator.SessionId;
            await emulator.DisposeAsync();
            if (!await ProcessSession.EmptiedWithinAsync(session, TimeSpan.FromSeconds(10)))
            {
                throw new InvalidOperationException($"The emulator's processes outlived it: {string.Join(", ", ProcessSession.Members(session))}");
            }
        }
    }

    /// <summary>A topic name no other test of the class uses.</summary>
    internal static LocalPubSubOptions OwnTopic(PubSubEmulator? emulator) =>
        new() { Emulator = emulator, Topic = $"batch-ready-{Guid.NewGuid():N}"[..24] };
}

/// <summary>A fact that needs Google's Pub/Sub emulator; skipped, with the reason, where it is not installed.</summary>
public sealed class EmulatorFactAttribute : FactAttribute
{
    public EmulatorFactAttribute()
    {
        if (PubSubEmulator.Locate(out var reason) is null)
        {
            Skip = $"Google's Pub/Sub emulator is not available: {reason}";
        }
    }
}

/// <summary>The live processes of a session, read from /proc.</summary>
internal static class ProcessSession
{
    public static IReadOnlyList<int> Members(int session)
    {
        var members = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                // pid (comm) state ppid pgrp session …: comm may hold spaces and parentheses, so count from the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] != "Z" && int.Parse(fields[3]) == session)
                {
                    members.Add(pid);
                }
            }
            catch (IOException)
            {
                // Gone while we looked.
            }
        }

        return members;
    }

    public static async Task<bool> EmptiedWithinAsync(int session, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (Members(session).Count > 0)
        {
            if (DateTime.UtcNow > until)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }
}
