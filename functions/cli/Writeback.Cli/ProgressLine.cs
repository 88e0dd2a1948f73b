using System.Globalization;
using Writeback.Cli.Local;

namespace Writeback.Cli;

/// <summary>
/// The demo's progress: on a terminal one line rewritten in place (shards, rows, rows/s, ETA), a new line for each new
/// phase; into a file or a pipe plain lines, one per phase and at most one every few seconds, so a CI log stays short.
/// Phases are followed per dataset: the demo's datasets run side by side and report in turn, and one dataset's report
/// is not a new phase of the other's.
/// </summary>
internal sealed class ProgressLine(TextWriter writer, bool interactive) : IProgress<DemoProgress>
{
    private static readonly TimeSpan PlainEvery = TimeSpan.FromSeconds(5);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, string> _phases = new(StringComparer.Ordinal);
    private DateTime _lastPlain;
    private bool _open;

    public void Report(DemoProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = Describe(value);
        lock (_lock)
        {
            var phaseChanged = !_phases.TryGetValue(value.Dataset, out var phase) || phase != value.Phase;
            _phases[value.Dataset] = value.Phase;
            if (interactive)
            {
                // \r returns to the line's start and ESC[K clears what a longer previous text left behind.
                writer.Write((phaseChanged && _open ? "\n" : "\r") + text + "\u001b[K");
                _open = true;
                writer.Flush();
                return;
            }

            if (phaseChanged || DateTime.UtcNow - _lastPlain >= PlainEvery)
            {
                _lastPlain = DateTime.UtcNow;
                writer.WriteLine(text);
            }
        }
    }

    /// <summary>Ends the line being rewritten, so what is printed next starts on its own.</summary>
    public void Done()
    {
        lock (_lock)
        {
            if (_open)
            {
                writer.WriteLine();
                _open = false;
            }
        }
    }

    /// <summary>"[dataset] phase — shards 3/8, 1,200,000 of 3,000,000 rows, 410,000 rows/s, ETA 4 s".</summary>
    public static string Describe(DemoProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var line = $"[{value.Dataset}] {value.Phase}";
        if (value.ShardsTotal == 0)
        {
            return line;
        }

        var culture = CultureInfo.InvariantCulture;
        var rate = value.LoadElapsed.TotalSeconds > 0 ? value.RowsLoaded / value.LoadElapsed.TotalSeconds : 0;
        line += string.Create(culture, $" — shards {value.ShardsLoaded}/{value.ShardsTotal}, {value.RowsLoaded:N0}");
        line += value.RowsTotal > 0 ? string.Create(culture, $" of {value.RowsTotal:N0} rows") : " rows";
        if (rate > 0)
        {
            line += string.Create(culture, $", {rate:N0} rows/s");
            if (value.RowsTotal > value.RowsLoaded)
            {
                line += $", ETA {Eta(TimeSpan.FromSeconds((value.RowsTotal - value.RowsLoaded) / rate))}";
            }
        }

        return line;
    }

    private static string Eta(TimeSpan t) => t.TotalSeconds < 90
        ? string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(t.TotalSeconds):0} s")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes} min {t.Seconds:00} s");
}
