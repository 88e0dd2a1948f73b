using System.Globalization;

namespace Writeback.EndToEnd.Benchmarks;

/// <summary>
/// CPU spent during one measured action: the PostgreSQL server's (null for a server whose data directory we were not
/// told), this process's (the step handlers run here, so it is the writers'), its reaped children's (psql), and the
/// machine's busy share of all its cores. Where the ceiling of parallel loads is shows here: a server near all cores
/// is CPU-bound, a machine well below them is waiting (WAL, locks).
/// </summary>
internal sealed record CpuUse(double? ServerSeconds, double WriterSeconds, double PsqlSeconds, double MachineBusy)
{
    public static CpuUse Median(IReadOnlyCollection<CpuUse> uses) => new(
        uses.All(u => u.ServerSeconds is not null) ? Report.Median(uses.Select(u => u.ServerSeconds!.Value)) : null,
        Report.Median(uses.Select(u => u.WriterSeconds)),
        Report.Median(uses.Select(u => u.PsqlSeconds)),
        Report.Median(uses.Select(u => u.MachineBusy)));
}

internal readonly record struct CpuSample(double? Server, double Writer, double Psql, long MachineBusyTicks, long MachineTicks);

/// <summary>Samples CPU counters from /proc; two samples make a <see cref="CpuUse"/>.</summary>
internal sealed class CpuMeter(int? postmaster)
{
    // /proc counts in USER_HZ, which Linux fixes at 100 on every architecture (what `getconf CLK_TCK` answers).
    private const double TicksPerSecond = 100;

    public int? Postmaster => postmaster;

    /// <summary>The server whose data directory run.sh exported (the first line of postmaster.pid is its PID), or none.</summary>
    public static CpuMeter ForServer(string? dataDirectory) => new(dataDirectory is null
        ? null
        : int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture));

    public CpuSample Sample()
    {
        // The first line of /proc/stat: cpu user nice system idle iowait irq softirq steal (guest time is inside user).
        var machine = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..9]
            .Select(ticks => long.Parse(ticks, CultureInfo.InvariantCulture)).ToArray();
        var total = machine.Sum();
        var self = Stat("self")!.Value;
        return new CpuSample(
            Server(),
            // Process.TotalProcessorTime of this process, without a Process object.
            Environment.CpuUsage.TotalTime.TotalSeconds,
            // .NET reaps psql with waitpid, which adds its times to ours: the child's CPU without its (gone) /proc entry.
            self.ChildrenTicks / TicksPerSecond,
            total - machine[3] - machine[4],
            total);
    }

    public static CpuUse Between(CpuSample before, CpuSample after) => new(
        after.Server - before.Server,
        after.Writer - before.Writer,
        after.Psql - before.Psql,
        (after.MachineBusyTicks - before.MachineBusyTicks) / (double)Math.Max(1, after.MachineTicks - before.MachineTicks));

    /// <summary>
    /// The postmaster's own and reaped children's time (backends that exited) plus its live children's (backends,
    /// checkpointer, WAL writer, autovacuum): each child counts once, live or reaped.
    /// </summary>
    private double? Server()
    {
        if (postmaster is not { } pid)
        {
            return null;
        }

        // A backend reaped between reading the postmaster and reading the backend would count nowhere (psql's backend
        // exits just as its run is sampled, which once read as 0.00 s of server CPU for a 1.4 s COPY): read again until
        // the postmaster reaped no child during the read.
        while (true)
        {
            var before = ReadPostmaster(pid);
            var live = 0L;
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                var name = Path.GetFileName(directory);
                if (name.All(char.IsAsciiDigit) && Stat(name) is { } child && child.Parent == pid)
                {
                    live += child.OwnTicks;
                }
            }

            var after = ReadPostmaster(pid);
            if (after.ChildrenTicks == before.ChildrenTicks)
            {
                return (after.OwnTicks + after.ChildrenTicks + live) / TicksPerSecond;
            }
        }
    }

    private static ProcStat ReadPostmaster(int pid) =>
        Stat(pid.ToString(CultureInfo.InvariantCulture)) ?? throw new InvalidOperationException($"the PostgreSQL server (postmaster {pid}) is gone");

    private readonly record struct ProcStat(int Parent, long OwnTicks, long ChildrenTicks);

    private static ProcStat? Stat(string pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // exited between the listing and the read
        }

        // Field 2, the command, is in parentheses and may hold spaces and ')': the fields after it start after the last
        // ')', field 3 (state) first, so field n is f[n - 3]: 4 ppid, 14 utime, 15 stime, 16 cutime, 17 cstime.
        var f = text[(text.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new ProcStat(int.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture), long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture));
    }
}
