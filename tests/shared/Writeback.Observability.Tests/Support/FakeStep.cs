using Microsoft.Extensions.Time.Testing;
using Writeback.Functions;

namespace Writeback.Observability.Tests.Support;

/// <summary>A step handler that takes a fixed (fake) time and answers with a fixed output or exception.</summary>
internal sealed class FakeStep(string name, FakeTimeProvider time, TimeSpan takes, Func<string, string>? respond = null, Exception? fail = null) : IFunctionHandler
{
    public string Name => name;

    public int Calls { get; private set; }

    public Task<string> InvokeAsync(string payloadJson, InvocationContext context, CancellationToken cancellationToken)
    {
        Calls++;
        time.Advance(takes);
        if (fail is not null)
        {
            throw fail;
        }

        return Task.FromResult(respond?.Invoke(payloadJson) ?? "{}");
    }
}
