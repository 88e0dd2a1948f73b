using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Writeback.Aggregate.Cloud;
using Writeback.Aggregate.Export;

namespace Writeback.Aggregate.Http;

public static partial class AggregateFunction
{
    private const string ResignExample =
        "{\"manifest\":\"gs://BUCKET/PREFIX/DATASET/YYYY-MM-DD/RUN/manifest.json\"} or {\"dataset\":\"student_dashboard\",\"businessDate\":\"2026-11-25\",\"batchId\":\"student_dashboard-20261125-…\"}";

    /// <summary><c>POST /resign</c>: a fresh signed copy of a batch's manifest, for a rollback older than the URLs' lifetime.</summary>
    private static Task HandleResignAsync(HttpContext context) => AnswerAsync(context, "resign", async logger =>
    {
        var request = await ReadResignRequestAsync(context.Request, context.RequestAborted);
        var resigner = context.RequestServices.GetRequiredService<ManifestResigner>();
        ResignedManifest resigned;
        if (request.Manifest is { Length: > 0 } path)
        {
            resigned = await resigner.ResignAsync(path, context.RequestAborted);
        }
        else
        {
            var (dataset, date) = AggregateRequestReader.Validate(request.Dataset, request.BusinessDate);
            var batchId = request.BatchId is { Length: > 0 } id && Core.Contracts.ContractReader.IsBatchId(id)
                ? id
                : throw new AggregateInputException($"\"batchId\" is required and must be a batch id, as ./writeback status lists them; the body is {ResignExample}");
            resigned = await resigner.ResignAsync(dataset, date, batchId, context.RequestAborted);
        }

        LogResigned(logger, resigned.BatchId, resigned.Copy, resigned.ExpiresAt);
        await Write(
            context,
            StatusCodes.Status200OK,
            new ResignResponse(resigned.BatchId, resigned.ManifestUri, resigned.ExpiresAt, resigned.Source, resigned.Copy, resigned.Shards),
            AggregateHttpJson.Default.ResignResponse);
    });

    private static async Task<ResignRequest> ReadResignRequestAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await AggregateRequestReader.ReadBodyAsync(request, cancellationToken);
        try
        {
            return JsonSerializer.Deserialize(body.Span, AggregateHttpJson.Default.ResignRequest)
                ?? throw new AggregateInputException($"the body is null; it should be {ResignExample}");
        }
        catch (JsonException e)
        {
            throw new AggregateInputException($"the body is not JSON like {ResignExample}: {e.Message}", e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "batch {BatchId}: manifest re-signed as {Copy}, valid until {ExpiresAt}")]
    private static partial void LogResigned(ILogger logger, string batchId, string copy, DateTimeOffset expiresAt);
}
