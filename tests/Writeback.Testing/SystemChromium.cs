namespace Writeback.Testing;

/// <summary>The machine's Chromium (Debian's <c>chromium</c>; scripts/test-prerequisites.sh installs it): tests never download a browser.</summary>
public static class SystemChromium
{
    public static string Executable =>
        new[] { Environment.GetEnvironmentVariable("WRITEBACK_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p))
        ?? throw new InvalidOperationException("chromium is not installed; run scripts/test-prerequisites.sh as root (apt-get install -y chromium).");
}
