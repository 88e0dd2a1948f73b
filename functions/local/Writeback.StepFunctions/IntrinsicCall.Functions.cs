using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>What each States.* function does, and how its arguments are read (a wrong type fails as States.IntrinsicFailure).</summary>
internal sealed partial class IntrinsicCall
{
    private JsonNode? Invoke(JsonNode?[] a, DataScope scope)
    {
        switch (Name)
        {
            case "States.Format":
                return JsonValue.Create(Format(a));
            case "States.StringToJson":
                return Json.Parse(String(a, 0));
            case "States.JsonToString":
                return JsonValue.Create(Json.ToCompactString(a[0]));
            case "States.Array":
                return new JsonArray([.. a.Select(v => v?.DeepClone())]);
            case "States.ArrayPartition":
            {
                var array = Array(a, 0);
                var size = Integer(a, 1);
                if (size <= 0)
                {
                    throw Fail("the chunk size must be a positive integer");
                }

                var result = new JsonArray();
                for (var i = 0; i < array.Count; i += (int)size)
                {
                    result.Add((JsonNode)new JsonArray([.. array.Skip(i).Take((int)size).Select(v => v?.DeepClone())]));
                }

                return result;
            }

            case "States.ArrayContains":
                return JsonValue.Create(Array(a, 0).Any(v => JsonNode.DeepEquals(v, a[1])));
            case "States.ArrayRange":
            {
                var start = Integer(a, 0);
                var end = Integer(a, 1);
                var step = Integer(a, 2);
                if (step == 0)
                {
                    throw Fail("the step must not be 0");
                }

                var result = new JsonArray();
                for (var v = start; step > 0 ? v <= end : v >= end; v += step)
                {
                    if (result.Count == 1000)
                    {
                        throw Fail("the range has more than 1000 items");
                    }

                    result.Add((JsonNode)JsonValue.Create(v));
                }

                return result;
            }

            case "States.ArrayGetItem":
            {
                var array = Array(a, 0);
                var index = Integer(a, 1);
                return index < 0 || index >= array.Count ? throw Fail($"index {index} is out of range") : array[(int)index]?.DeepClone();
            }

            case "States.ArrayLength":
                return JsonValue.Create(Array(a, 0).Count);
            case "States.ArrayUnique":
            {
                var result = new JsonArray();
                foreach (var v in Array(a, 0))
                {
                    if (!result.Any(r => JsonNode.DeepEquals(r, v)))
                    {
                        result.Add(v?.DeepClone());
                    }
                }

                return result;
            }

            case "States.Base64Encode":
                return JsonValue.Create(Convert.ToBase64String(Encoding.UTF8.GetBytes(Limited(a, 0))));
            case "States.Base64Decode":
                return JsonValue.Create(Encoding.UTF8.GetString(Convert.FromBase64String(Limited(a, 0))));
            case "States.Hash":
            {
                var data = Encoding.UTF8.GetBytes(a[0] is JsonValue && Json.TryGetString(a[0], out var s) ? Limit(s) : Limit(Json.ToCompactString(a[0])));
#pragma warning disable CA5350, CA5351 // States.Hash offers MD5 and SHA-1 because the service does; they are checksums here, not security.
                var hash = String(a, 1) switch
                {
                    "MD5" => MD5.HashData(data),
                    "SHA-1" => SHA1.HashData(data),
                    "SHA-256" => SHA256.HashData(data),
                    "SHA-384" => SHA384.HashData(data),
                    "SHA-512" => SHA512.HashData(data),
                    var other => throw Fail($"'{other}' is not a supported algorithm (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"),
                };
#pragma warning restore CA5350, CA5351
                return JsonValue.Create(Convert.ToHexStringLower(hash));
            }

            case "States.JsonMerge":
            {
                if (a[0] is not JsonObject left || a[1] is not JsonObject right)
                {
                    throw Fail("both arguments must be objects");
                }

                if (a[2]?.GetValueKind() != JsonValueKind.False)
                {
                    throw Fail("only a shallow merge (false) is supported, as on the service");
                }

                var merged = (JsonObject)left.DeepClone();
                foreach (var p in right)
                {
                    merged[p.Key] = p.Value?.DeepClone();
                }

                return merged;
            }

            case "States.MathRandom":
            {
                var start = Integer(a, 0);
                var end = Integer(a, 1);
                if (end <= start)
                {
                    throw Fail("the end must be greater than the start");
                }

                if (a.Length == 3)
                {
                    var seeded = new Random(unchecked((int)Integer(a, 2)));
                    return JsonValue.Create(seeded.NextInt64(start, end));
                }

                return JsonValue.Create((long)scope.NextRandom(checked((int)start), checked((int)end)));
            }

            case "States.MathAdd":
            {
                var sum = checked((int)Integer(a, 0) + (int)Integer(a, 1));
                return JsonValue.Create(sum);
            }

            case "States.StringSplit":
            {
                var delimiters = String(a, 1).ToCharArray();
                var parts = String(a, 0).Split(delimiters, StringSplitOptions.RemoveEmptyEntries);
                return new JsonArray([.. parts.Select(p => (JsonNode)JsonValue.Create(p))]);
            }

            case "States.UUID":
            {
                Span<byte> bytes = stackalloc byte[16];
                scope.NextBytes(bytes);
                bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
                bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
                return JsonValue.Create(new Guid(bytes, bigEndian: true).ToString());
            }

            default:
                throw Fail("unknown function");
        }
    }

    private string Format(JsonNode?[] a)
    {
        if (Args[0] is not LiteralArg { Raw: { } template })
        {
            throw Fail("the template must be a string literal");
        }

        var sb = new StringBuilder();
        var next = 1;
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '\\' && i + 1 < template.Length)
            {
                sb.Append(template[++i]);
            }
            else if (c == '{' && i + 1 < template.Length && template[i + 1] == '}')
            {
                if (next >= a.Length)
                {
                    throw Fail("the template has more placeholders than arguments");
                }

                var value = a[next++];
                if (value is JsonObject or JsonArray)
                {
                    throw Fail("arguments must be strings, numbers, booleans or null");
                }

                sb.Append(Json.TryGetString(value, out var s) ? s : Json.ToCompactString(value));
                i++;
            }
            else
            {
                sb.Append(c);
            }
        }

        return next != a.Length ? throw Fail("the template has fewer placeholders than arguments") : sb.ToString();
    }

    private string String(JsonNode?[] a, int i) =>
        Json.TryGetString(a[i], out var s) ? s : throw Fail($"argument {i + 1} must be a string, not {Json.Describe(a[i])}");

    private string Limited(JsonNode?[] a, int i) => Limit(String(a, i));

    private string Limit(string s) => s.Length <= 10_000 ? s : throw Fail("the input is longer than 10,000 characters");

    private JsonArray Array(JsonNode?[] a, int i) =>
        a[i] as JsonArray ?? throw Fail($"argument {i + 1} must be an array, not {Json.Describe(a[i])}");

    private long Integer(JsonNode?[] a, int i)
    {
        if (Json.TryGetInteger(a[i], out var v))
        {
            return v;
        }

        if (Json.TryGetString(a[i], out var s) && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v))
        {
            return v;
        }

        throw Fail($"argument {i + 1} must be an integer, not {Json.Describe(a[i])}");
    }

    private StatesException Fail(string message) => new(StatesErrors.IntrinsicFailure, $"{Name}: {message}");
}
