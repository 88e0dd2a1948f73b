using System.Net.Http.Json;

namespace Writeback.Aggregate.Cloud;

/// <summary>A BigQuery query job that finished with an error (status.errorResult).</summary>
public sealed class BigQueryJobFailedException : Exception
{
    public BigQueryJobFailedException()
    {
    }

    public BigQueryJobFailedException(string message) : base(message)
    {
    }

    public BigQueryJobFailedException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public BigQueryJobFailedException(string jobId, BigQueryError error)
        : base($"BigQuery job {jobId} failed: {error.Reason}: {error.Message}") => Reason = error.Reason;

    public string? Reason { get; }
}

/// <summary>
/// The two BigQuery v2 REST calls the exporter needs: jobs.insert (a query job) and jobs.get (poll until DONE).
/// The SDK for BigQuery is not used; the REST shapes are small and this keeps the function's dependencies few.
/// </summary>
public sealed class BigQueryClient(HttpClient http, IAccessTokenSource tokens, Uri? baseUri = null, TimeProvider? timeProvider = null)
{
    public static readonly Uri DefaultBaseUri = new("https://bigquery.googleapis.com/");

    private readonly Uri _base = baseUri ?? DefaultBaseUri;
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>
    /// jobs.insert with a caller-chosen job id, so a retried insert finds the same job (409) instead of
    /// running the query twice.
    /// </summary>
    public async Task<BigQueryJob> InsertQueryJobAsync(string projectId, string location, string jobId, string sql, CancellationToken cancellationToken)
    {
        var job = new BigQueryJob
        {
            JobReference = new BigQueryJobReference(projectId, jobId, location),
            Configuration = new BigQueryJobConfiguration(new BigQueryQueryConfiguration(sql, UseLegacySql: false), new Dictionary<string, string> { ["app"] = "writeback" }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, $"bigquery/v2/projects/{Uri.EscapeDataString(projectId)}/jobs"))
        {
            Content = JsonContent.Create(job, CloudJson.Default.BigQueryJob),
        };
        try
        {
            using var response = await GoogleRest.SendAsync(http, tokens, request, "BigQuery jobs.insert", cancellationToken);
            return await ReadJobAsync(response, cancellationToken);
        }
        catch (GoogleApiException e) when (e.StatusCode == 409)
        {
            // The job exists: an earlier attempt of this very run inserted it.
            return await GetJobAsync(projectId, location, jobId, cancellationToken);
        }
    }

    public async Task<BigQueryJob> GetJobAsync(string projectId, string location, string jobId, CancellationToken cancellationToken)
    {
        var uri = new Uri(_base, $"bigquery/v2/projects/{Uri.EscapeDataString(projectId)}/jobs/{Uri.EscapeDataString(jobId)}?location={Uri.EscapeDataString(location)}");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        using var response = await GoogleRest.SendAsync(http, tokens, request, "BigQuery jobs.get", cancellationToken);
        return await ReadJobAsync(response, cancellationToken);
    }

    /// <summary>Polls jobs.get until the job is DONE; a DONE job with errorResult throws <see cref="BigQueryJobFailedException"/>.</summary>
    public async Task<BigQueryJob> WaitForJobAsync(string projectId, string location, BigQueryJob job, TimeSpan pollInterval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var jobId = job.JobReference?.JobId ?? throw new GoogleApiException("BigQuery answered a job without a jobReference");
        while (!string.Equals(job.Status?.State, "DONE", StringComparison.Ordinal))
        {
            await Task.Delay(pollInterval, _time, cancellationToken);
            job = await GetJobAsync(projectId, location, jobId, cancellationToken);
        }

        if (job.Status?.ErrorResult is { } error)
        {
            throw new BigQueryJobFailedException(jobId, error);
        }

        return job;
    }

    private static async Task<BigQueryJob> ReadJobAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync(CloudJson.Default.BigQueryJob, cancellationToken)
        ?? throw new GoogleApiException("BigQuery answered an empty job");
}
