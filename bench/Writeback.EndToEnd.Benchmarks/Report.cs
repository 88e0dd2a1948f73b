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

    public static void Round(int round, Measured ours, Measured copy, string? note = null) =>
        Console.WriteLine($"  round {round}: writeback {ours.Seconds:0.00} s ({Mb(ours.WalBytes)} WAL), psql \\copy {copy.Seconds:0.00} s ({Mb(copy.WalBytes)} WAL){(note is null ? "" : ", " + note)} (load average {Load()})");

    public static void Case(string label, IEnumerable<Measured> ours, IEnumerable<Measured> copies)
    {
        var time = Median(ours.Select(o => o.Seconds));
        var wal = (long)Median(ours.Select(o => (double)o.WalBytes));
        var copyTime = Median(copies.Select(c => c.Seconds));
        var copyWal = (long)Median(copies.Select(c => (double)c.WalBytes));
        Console.WriteLine($"{label}: {time:0.00} s, {Mb(wal)} WAL · psql \\copy {copyTime:0.00} s, {Mb(copyWal)} WAL · time ratio {time / copyTime:0.00}x, WAL ratio {(double)wal / copyWal:0.00}x");
    }

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
