using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Writeback.Benchmarks;

/// <summary>
/// The baseline every benchmark compares with: the machine's own <c>psql</c>, run as a user would run it (one command,
/// <c>ON_ERROR_STOP</c>, no psqlrc). Compiled into each benchmark program rather than referenced, so no product project
/// carries it.
/// </summary>
internal static class Psql
{
    public static async Task RunAsync(string connectionString, string command)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        var start = new ProcessStartInfo("psql") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", csb.Host!, "-p", csb.Port.ToString(CultureInfo.InvariantCulture), "-U", csb.Username!, "-d", csb.Database!, "-c", command })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PGPASSWORD"] = csb.Password;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("psql failed: " + await error);
        }
    }
}
