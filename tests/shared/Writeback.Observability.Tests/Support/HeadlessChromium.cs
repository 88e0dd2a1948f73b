using System.Diagnostics;

namespace Writeback.Observability.Tests.Support;

/// <summary>Debian's <c>chromium</c> in headless mode (scripts/test-prerequisites.sh installs it).</summary>
internal static class HeadlessChromium
{
    /// <summary>The DOM after the page's scripts ran.</summary>
    public static async Task<string> DumpDomAsync(string htmlPath) => await RunAsync("--dump-dom", FileUrl(htmlPath));

    public static async Task ScreenshotAsync(string htmlPath, string pngPath) =>
        await RunAsync($"--screenshot={pngPath}", "--window-size=1100,900", FileUrl(htmlPath));

    private static string FileUrl(string path) => new Uri(Path.GetFullPath(path)).AbsoluteUri;

    private static async Task<string> RunAsync(params string[] arguments)
    {
        var profile = Directory.CreateTempSubdirectory("wb-chromium-");
        try
        {
            var start = new ProcessStartInfo(Writeback.Testing.SystemChromium.Executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", $"--user-data-dir={profile.FullName}",
            }.Concat(arguments))
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            // A guard against a wedged browser, not a timing assertion.
            using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await process.WaitForExitAsync(guard.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"chromium did not finish: {await stderr}");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"chromium exited with {process.ExitCode}: {await stderr}");
            }

            return await stdout;
        }
        finally
        {
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Chromium's helpers may still hold the profile for a moment; a leftover temp folder is harmless.
            }
        }
    }
}
