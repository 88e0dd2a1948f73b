namespace Writeback.Trigger;

/// <summary>
/// The push is not acceptable as sent (4xx): no or bad token, a malformed envelope or event, an unknown dataset,
/// a manifest that cannot be found. Nothing was started.
/// </summary>
public sealed class TriggerRejectedException : Exception
{
    public TriggerRejectedException() : this(400, "bad_request", "The request was rejected.") { }

    public TriggerRejectedException(string message) : this(400, "bad_request", message) { }

    public TriggerRejectedException(string message, Exception innerException) : this(400, "bad_request", message, innerException) { }

    public TriggerRejectedException(int statusCode, string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Code = code;
    }

    public int StatusCode { get; }

    /// <summary>A stable, machine-readable reason, e.g. <c>token_expired</c>.</summary>
    public string Code { get; }

    internal static TriggerRejectedException Unauthorized(string code, string message, Exception? inner = null) => new(401, code, message, inner);

    internal static TriggerRejectedException Forbidden(string code, string message) => new(403, code, message);

    internal static TriggerRejectedException BadRequest(string code, string message, Exception? inner = null) => new(400, code, message, inner);

    internal static TriggerRejectedException Unprocessable(string code, string message) => new(422, code, message);
}
