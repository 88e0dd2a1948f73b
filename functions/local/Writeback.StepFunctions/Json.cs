using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Writeback.StepFunctions;

[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class JsonContext : JsonSerializerContext;

/// <summary>JSON helpers shared by the interpreter; every payload crosses them as text, as it does on the service.</summary>
public static class Json
{
    // Payloads are data, not HTML: escaping quotes as \u0022 would only make histories and outputs harder to read.
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, TypeInfoResolver = JsonContext.Default, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, TypeInfoResolver = JsonContext.Default, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Parses and fully materializes the tree: JsonNode builds children lazily and that is not thread-safe, while
    /// Parallel branches and Map iterations read the same nodes concurrently.
    /// </summary>
    public static JsonNode? Parse(string json)
    {
        var node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 512 });
        Materialize(node);
        return node;
    }

    internal static void Materialize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var p in o)
                {
                    Materialize(p.Value);
                }

                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    Materialize(item);
                }

                break;
            default:
                break;
        }
    }

    public static string ToCompactString(JsonNode? node) => node is null ? "null" : node.ToJsonString(Compact);

    public static string ToIndentedString(JsonNode? node) =>
        node is null ? "null" : node.ToJsonString(Indented);

    /// <summary>The UTF-8 size of the node's compact serialization: what the service's 256 KiB limit measures.</summary>
    public static long Utf8Size(JsonNode? node)
    {
        if (node is null)
        {
            return 4;
        }

        var buffer = new CountingBufferWriter();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            node.WriteTo(writer);
        }

        return buffer.Count;
    }

    /// <summary>A node that can be put into a new container: JsonNode allows one parent, so a parented node is copied.</summary>
    internal static JsonNode? Own(JsonNode? node) => node?.Parent is null ? node : node.DeepClone();

    /// <summary>
    /// Any JSON number as a double. A JsonValue built in code (an intrinsic's result, a Pass state's Result) holds the
    /// CLR type it was made from, and TryGetValue&lt;double&gt; refuses a long or an int: read its JSON text instead, so a
    /// number is a number wherever it came from.
    /// </summary>
    internal static bool TryGetNumber(JsonNode? node, out double value)
    {
        value = 0;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }

        return v.TryGetValue(out value)
            || double.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value);
    }

    internal static bool TryGetInteger(JsonNode? node, out long value)
    {
        value = 0;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }

        if (v.TryGetValue(out value)
            || long.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        if (TryGetNumber(v, out var d) && Math.Floor(d) == d && Math.Abs(d) < 9e15)
        {
            value = (long)d;
            return true;
        }

        return false;
    }

    internal static bool TryGetString(JsonNode? node, out string value)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            value = v.GetValue<string>();
            return true;
        }

        value = "";
        return false;
    }

    internal static string Describe(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        _ => "a boolean",
    };

    internal static JsonNode Number(double value) =>
        Math.Floor(value) == value && Math.Abs(value) < 9e15 ? JsonValue.Create((long)value) : JsonValue.Create(value);

    internal static string FormatTimestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Counts bytes without keeping them: measuring a payload should not cost a copy of it.</summary>
    private sealed class CountingBufferWriter : IBufferWriter<byte>
    {
        private byte[] _scratch = new byte[256];

        public long Count { get; private set; }

        public void Advance(int count) => Count += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint);

        private byte[] Ensure(int sizeHint)
        {
            if (sizeHint > _scratch.Length)
            {
                _scratch = new byte[sizeHint];
            }

            return _scratch;
        }
    }
}
