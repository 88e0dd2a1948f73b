using System.Globalization;

namespace Writeback.EndToEnd.Benchmarks;

internal static class Report
{
    public static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    public static void Title(string text)
    {
        Console.WriteLine();
        Console.WriteLine("## " + text);
    }

    public static void Round(int round, Measured ours, Measured copy, string? note = null, string label = "writeback") =>
        Console.WriteLine($"  round {round}: {label} {ours.Seconds:0.00} s ({Mb(ours.WalBytes)} WAL · {Cpu(ours.Cpu)}), psql \\copy {copy.Seconds:0.00} s ({Mb(copy.WalBytes)} WAL · {Cpu(copy.Cpu, psql: true)}){(note is null ? "" : ", " + note)} (load average {Load()})");

    public static void Case(string label, IEnumerable<Measured> ours, IEnumerable<Measured> copies)
    {
        var time = Median(ours.Select(o => o.Seconds));
        var wal = (long)Median(ours.Select(o => (double)o.WalBytes));
        var copyTime = Median(copies.Select(c => c.Seconds));
        var copyWal = (long)Median(copies.Select(c => (double)c.WalBytes));
        Console.WriteLine($"{label}: {time:0.00} s, {Mb(wal)} WAL · psql \\copy {copyTime:0.00} s, {Mb(copyWal)} WAL · time ratio {time / copyTime:0.00}x, WAL ratio {(double)wal / copyWal:0.00}x");
        Console.WriteLine($"  CPU (median): {Cpu(CpuUse.Median([.. ours.Select(o => o.Cpu)]))}; psql \\copy: {Cpu(CpuUse.Median([.. copies.Select(c => c.Cpu)]), psql: true)}");
    }

    /// <summary>"server CPU 2.41 s · writer CPU 1.10 s · machine 93 % of 2 cores"; for the baseline, psql's CPU in the writer's place.</summary>
    public static string Cpu(CpuUse cpu, bool psql = false) =>
        $"server CPU {(cpu.ServerSeconds is { } server ? $"{server:0.00} s" : "n/a")} · "
        + $"{(psql ? "psql" : "writer")} CPU {(psql ? cpu.PsqlSeconds : cpu.WriterSeconds):0.00} s · machine {cpu.MachineBusy * 100:0} % of {Environment.ProcessorCount} cores";

    public static void Steps(IEnumerable<WorkflowRun> runs)
    {
        var list = runs.ToList();
        var names = list.SelectMany(r => r.Steps.Keys).Distinct().ToList();
        Console.WriteLine("  steps (median): " + string.Join(" · ", names.Select(n => $"{n} {Median(list.Select(r => r.Steps.GetValueOrDefault(n).TotalSeconds)):0.00} s")));
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static string Mb(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB";
}
