using System.Net;
using System.Text;
using System.Text.Json;
using Writeback.StepFunctions;

namespace Writeback.Lambda.Local;

/// <summary>
/// The engine's side of the Lambda Invoke API: what Step Functions' lambda:invoke integration does with the answer.
/// A function error's errorType becomes the state's error name, except a runtime that died (<c>Runtime.ExitError</c>),
/// which Step Functions reports as <c>Lambda.Unknown</c>; the cause is the error document, as in the execution history
/// AWS keeps. Service errors become <c>Lambda.{Type}</c>, and a call that never reached the service
/// <c>Lambda.SdkClientException</c>. The local service checks no signature, so requests are not signed.
/// </summary>
public sealed class LambdaInvokeClient(HttpClient http, Uri endpoint) : ILambdaInvoker
{
    public async Task<LambdaInvocationResult> InvokeAsync(string functionName, string payloadJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(functionName);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, $"2015-03-31/functions/{Uri.EscapeDataString(functionName)}/invocations"))
        {
            Content = new StringContent(payloadJson, Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("X-Amz-Invocation-Type", "RequestResponse");
        if (TraceHeader(payloadJson) is { } trace)
        {
            request.Headers.TryAddWithoutValidation("X-Amzn-Trace-Id", trace);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            return LambdaInvocationResult.Failure("Lambda.SdkClientException", $"Unable to execute HTTP request: {e.Message}");
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return response.Headers.Contains("X-Amz-Function-Error") ? FunctionError(body) : LambdaInvocationResult.Success(body);
            }

            var type = response.Headers.TryGetValues("x-amzn-ErrorType", out var types) ? types.First().Split(':')[0] : null;
            type ??= (int)response.StatusCode >= 500 ? "ServiceException" : "AWSLambdaException";
            return LambdaInvocationResult.Failure($"Lambda.{type}", $"{body} (Service: Lambda, Status Code: {(int)response.StatusCode})");
        }
    }

    private static LambdaInvocationResult FunctionError(string body)
    {
        string? errorType = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errorType", out var type) && type.ValueKind == JsonValueKind.String)
            {
                errorType = type.GetString();
            }
        }
        catch (JsonException)
        {
            // Not an error document: Step Functions cannot name the error either.
        }

        return errorType is null or "" or "Runtime.ExitError"
            ? LambdaInvocationResult.Failure("Lambda.Unknown", body)
            : LambdaInvocationResult.Failure(errorType, body);
    }

    /// <summary>The execution's traceparent, if the payload carries one, passed on as X-Ray would pass its trace header.</summary>
    private static string? TraceHeader(string payloadJson)
    {
        try
        {
            using var document = JsonDocument.Parse(payloadJson);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("traceparent", out var t) && t.ValueKind == JsonValueKind.String
                ? t.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
