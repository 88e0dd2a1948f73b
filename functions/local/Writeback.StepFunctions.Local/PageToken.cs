using System.Security.Cryptography;
using System.Text;

namespace Writeback.StepFunctions.Local;

/// <summary>
/// nextToken: an offset into one listing, bound to what was listed (the ARN and filter), so a token is refused with
/// InvalidToken when it is replayed against another listing or altered.
/// </summary>
internal static class PageToken
{
    public static string Create(string scope, int offset)
    {
        var text = $"{offset}:{Bind(scope)}";
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
    }

    public static int Read(string? token, string scope)
    {
        if (token is null)
        {
            return 0;
        }

        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(token)).Split(':');
            if (parts.Length == 2 && int.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var offset) && offset >= 0 && parts[1] == Bind(scope))
            {
                return offset;
            }
        }
        catch (FormatException)
        {
        }

        throw new StepFunctionsApiException(SfnErrors.InvalidToken, "Invalid Token: 'The nextToken does not belong to this request'");
    }

    /// <summary>The items of one page and the token for the next, or null when this page is the last.</summary>
    public static (IReadOnlyList<T> Page, string? Next) Page<T>(IReadOnlyList<T> all, string? token, string scope, int size)
    {
        var offset = Read(token, scope);
        var page = all.Skip(offset).Take(size).ToList();
        return (page, offset + page.Count < all.Count ? Create(scope, offset + page.Count) : null);
    }

    private static string Bind(string scope) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(scope)))[..16];
}
