using System.Text;

namespace Writeback.Core;

/// <summary>
/// What an error message, a log line, run history or an alert may repeat of what a sender sent: a short, truncated
/// identifier, never a signed URL's query string (its signature is a credential) and never unbounded input (a 15 MB
/// batch id must not become a 15 MB answer).
/// </summary>
public static class Echo
{
    public const int DefaultLength = 80;

    /// <summary>
    /// <paramref name="value"/> cut to <paramref name="max"/> characters (the cut marked with "…"), control characters
    /// replaced by '?', so the result is one printable line whatever was sent.
    /// </summary>
    public static string Brief(string? value, int max = DefaultLength)
    {
        if (value is null)
        {
            return "(none)";
        }

        var cut = value.Length > max;
        var text = new StringBuilder(Math.Min(value.Length, max) + 1);
        foreach (var c in cut ? value.AsSpan(0, max - 1) : value.AsSpan())
        {
            text.Append(char.IsControl(c) ? '?' : c);
        }

        return cut ? text.Append('…').ToString() : text.ToString();
    }

    /// <summary>
    /// A manifest or shard reference as it may be shown: no query string or fragment, and at most
    /// <paramref name="max"/> characters, keeping the end (the file name says more than the host).
    /// </summary>
    public static string Location(string? reference, int max = DefaultLength)
    {
        if (reference is null)
        {
            return "(none)";
        }

        var end = reference.IndexOfAny(['?', '#']);
        var bare = end < 0 ? reference : reference[..end];
        if (bare.Length > max)
        {
            bare = "…" + bare[^(max - 1)..];
        }

        return Brief(bare, max);
    }
}
