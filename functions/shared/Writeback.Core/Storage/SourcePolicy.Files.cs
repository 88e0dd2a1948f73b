using System.Diagnostics.CodeAnalysis;

namespace Writeback.Core.Storage;

/// <summary>File references: real paths (symbolic links resolved) under the one local folder.</summary>
public sealed partial class SourcePolicy
{
    private bool TryFile(string path, [NotNullWhen(true)] out SourceLocation? location, [NotNullWhen(false)] out string? problem)
    {
        location = null;
        string real;
        try
        {
            real = RealPath(Path.GetFullPath(path));
        }
        catch (IOException e)
        {
            problem = $"cannot be resolved ({e.GetType().Name})";
            return false;
        }

        if (!real.StartsWith(_root!, StringComparison.Ordinal))
        {
            problem = $"is outside the export folder {_root}{(real == Path.GetFullPath(path) ? "" : " once its links are resolved")}";
            return false;
        }

        location = new SourceLocation
        {
            Uri = new Uri(real),
            LocalPath = real,
            Folder = Path.GetDirectoryName(real)! + Path.DirectorySeparatorChar,
            Describe = Echo.Location(real),
        };
        problem = null;
        return true;
    }

    /// <summary>
    /// The path with every symbolic link resolved, component by component (a link to a folder anywhere on the way
    /// counts, not only at the end), so a link inside the export folder cannot reach outside it. Missing parts stay as
    /// they are: they cannot be links.
    /// </summary>
    internal static string RealPath(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath)!;
        var pending = new Stack<string>(fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = root;
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Combine(current, part);
            if (new FileInfo(next).LinkTarget is not { } target)
            {
                current = next;
                continue;
            }

            if (++links > 40)
            {
                throw new IOException("Too many levels of symbolic links.");
            }

            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
                target = target[current.Length..];
            }

            foreach (var step in target.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(step);
            }
        }

        return current;
    }
}
