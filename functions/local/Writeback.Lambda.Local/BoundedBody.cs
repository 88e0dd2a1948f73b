using System.Text;
using Microsoft.AspNetCore.Http;

namespace Writeback.Lambda.Local;

/// <summary>A request body read as UTF-8 text, or null once it grows past the bound (the caller answers 413).</summary>
internal static class BoundedBody
{
    public static async Task<string?> ReadAsync(HttpRequest request, int maxBytes)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
