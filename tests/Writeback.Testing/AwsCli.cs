using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Writeback.Testing;

/// <summary>
/// The real AWS CLI (v1 on the machine image, Debian's <c>awscli</c> elsewhere; scripts/test-prerequisites.sh installs it)
/// pointed at a local endpoint. Dummy credentials and region come from the environment and every config file is
/// /dev/null, so a test never reads ~/.aws nor reaches a real account.
/// </summary>
public static class AwsCli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public JsonNode Json => JsonNode.Parse(Stdout) ?? throw new InvalidOperationException($"The CLI printed no JSON: {Stderr}");
    }

    public static async Task<Result> StepFunctionsAsync(Uri endpoint, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var start = new ProcessStartInfo("aws")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = "local";
        start.Environment["AWS_SECRET_ACCESS_KEY"] = "local";
        start.Environment["AWS_DEFAULT_REGION"] = "us-east-1";
        start.Environment["AWS_CONFIG_FILE"] = "/dev/null";
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null";
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        start.Environment["AWS_PAGER"] = "";
        // A refused request must be answered, not retried for seconds: the tests read the first answer.
        start.Environment["AWS_MAX_ATTEMPTS"] = "1";
        start.ArgumentList.Add("stepfunctions");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add("--endpoint-url");
        start.ArgumentList.Add(endpoint.ToString().TrimEnd('/'));
        start.ArgumentList.Add("--output");
        start.ArgumentList.Add("json");

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("The AWS CLI (`aws`) is not on PATH; scripts/test-prerequisites.sh installs it (Debian: apt-get install awscli).", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return new Result(process.ExitCode, await stdout, await stderr);
        }
    }
}
