namespace Writeback.Aggregate.Publishing;

/// <summary>Announces a batch: Pub/Sub publish in the cloud, a push straight to the trigger locally.</summary>
public interface IBatchPublisher
{
    /// <summary>Publishes the message and returns its message id.</summary>
    Task<string> PublishAsync(PubSubMessage message, CancellationToken cancellationToken);
}

/// <summary>The receiver refused or failed the message; carries the status so callers can tell a 4xx from a 5xx.</summary>
public sealed class PublishException : Exception
{
    public PublishException()
    {
    }

    public PublishException(string message) : base(message)
    {
    }

    public PublishException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public PublishException(string message, int statusCode) : base(message) => StatusCode = statusCode;

    public int? StatusCode { get; }
}
