using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>
/// A Distributed Map's ItemReader: the items of one S3 object (a JSON array, JSON Lines, CSV, or an S3 Inventory
/// manifest) or of an S3 listing, read from the folder standing in for S3. MaxItems stops the reading early.
/// </summary>
internal static class ItemReader
{
    public static async Task<JsonArray> ReadAsync(ItemReaderConfig config, JsonNode? parameters, int? maxItems, LocalS3 s3, CancellationToken ct)
    {
        var bucket = Field(parameters, "Bucket");
        var limit = maxItems ?? int.MaxValue;
        if (config.Kind == ItemReaderKind.ListObjects)
        {
            var prefix = parameters?["Prefix"] is { } p && Json.TryGetString(p, out var text) ? text : "";
            return [.. s3.List(bucket, prefix).Take(limit).Select(o => (JsonNode)ListedObject(o.Key, o.File))];
        }

        var key = Field(parameters, "Key");
        switch (config.InputType)
        {
            case ItemInputType.Json:
            {
                var node = Json.Parse(await s3.ReadTextAsync(bucket, key, ct).ConfigureAwait(false));
                return node is JsonArray array
                    ? [.. array.Take(limit).Select(i => i?.DeepClone())]
                    : throw new InvalidOperationException($"s3://{bucket}/{key} holds {Json.Describe(node)}, not a JSON array");
            }

            case ItemInputType.Jsonl:
            {
                var items = new JsonArray();
                foreach (var line in (await s3.ReadTextAsync(bucket, key, ct).ConfigureAwait(false)).Split('\n'))
                {
                    if (items.Count >= limit)
                    {
                        break;
                    }

                    if (line.Trim().Length > 0)
                    {
                        items.Add(Json.Parse(line));
                    }
                }

                return items;
            }

            case ItemInputType.Csv:
                return Csv(await s3.ReadTextAsync(bucket, key, ct).ConfigureAwait(false), config.CsvDelimiter, config.CsvHeaderInFirstRow ? null : config.CsvHeaders, limit);

            default:
                return await InventoryAsync(await s3.ReadTextAsync(bucket, key, ct).ConfigureAwait(false), s3, limit, ct).ConfigureAwait(false);
        }
    }

    /// <summary>One row an object; every value a string, as the service reads CSV. Rows are cut at <paramref name="limit"/>.</summary>
    internal static JsonArray Csv(string text, char delimiter, string[]? givenHeaders, int limit)
    {
        var rows = CsvRows(text, delimiter).GetEnumerator();
        var headers = givenHeaders;
        if (headers is null)
        {
            if (!rows.MoveNext())
            {
                return [];
            }

            headers = [.. rows.Current];
        }

        var items = new JsonArray();
        while (items.Count < limit && rows.MoveNext())
        {
            var row = rows.Current;
            if (row.Count > headers.Length)
            {
                throw new InvalidOperationException($"CSV row {items.Count + 1} has {row.Count} fields and the header {headers.Length}");
            }

            var item = new JsonObject();
            for (var i = 0; i < headers.Length; i++)
            {
                item[headers[i]] = i < row.Count ? row[i] : "";
            }

            items.Add((JsonNode)item);
        }

        return items;
    }

    /// <summary>RFC 4180: fields in double quotes may hold the delimiter, line breaks and doubled quotes.</summary>
    private static IEnumerable<List<string>> CsvRows(string text, char delimiter)
    {
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var any = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }

                continue;
            }

            if (c == '"')
            {
                quoted = true;
                any = true;
            }
            else if (c == delimiter)
            {
                row.Add(field.ToString());
                field.Clear();
                any = true;
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                if (any || field.Length > 0)
                {
                    row.Add(field.ToString());
                    yield return row;
                }

                row = [];
                field.Clear();
                any = false;
            }
            else
            {
                field.Append(c);
                any = true;
            }
        }

        if (any || field.Length > 0)
        {
            row.Add(field.ToString());
            yield return row;
        }
    }

    /// <summary>An S3 Inventory manifest.json: its CSV files (gzip) in the destination bucket, one item a listed object.</summary>
    private static async Task<JsonArray> InventoryAsync(string manifestText, LocalS3 s3, int limit, CancellationToken ct)
    {
        var manifest = Json.Parse(manifestText) as JsonObject ?? throw new InvalidOperationException("the inventory manifest is not a JSON object");
        if (Field(manifest, "fileFormat") != "CSV")
        {
            throw new InvalidOperationException($"inventory fileFormat '{Field(manifest, "fileFormat")}' is not CSV, the one the local engine reads");
        }

        var destination = Field(manifest, "destinationBucket");
        var bucket = destination.StartsWith("arn:aws:s3:::", StringComparison.Ordinal) ? destination["arn:aws:s3:::".Length..] : destination;
        var headers = Field(manifest, "fileSchema").Split(',').Select(h => h.Trim()).ToArray();
        var items = new JsonArray();
        foreach (var file in manifest["files"] as JsonArray ?? [])
        {
            if (items.Count >= limit)
            {
                break;
            }

            var key = Field(file, "key");
            var stream = s3.OpenRead(bucket, key);
            await using (stream.ConfigureAwait(false))
            {
                Stream content = key.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(stream, CompressionMode.Decompress) : stream;
                using var reader = new StreamReader(content, Encoding.UTF8);
                foreach (var item in Csv(await reader.ReadToEndAsync(ct).ConfigureAwait(false), ',', headers, limit - items.Count))
                {
                    items.Add(item?.DeepClone());
                }
            }
        }

        return items;
    }

    private static JsonObject ListedObject(string key, FileInfo file)
    {
        byte[] hash;
        using (var stream = file.OpenRead())
        {
            // S3's ETag of an object put in one part is its MD5; here it only has to identify the content.
#pragma warning disable CA5351
            hash = System.Security.Cryptography.MD5.HashData(stream);
#pragma warning restore CA5351
        }

        return new JsonObject
        {
            ["Etag"] = $"\"{Convert.ToHexStringLower(hash)}\"",
            ["Key"] = key,
            ["LastModified"] = new DateTimeOffset(file.LastWriteTimeUtc).ToUnixTimeSeconds(),
            ["Size"] = file.Length,
            ["StorageClass"] = "STANDARD",
        };
    }

    private static string Field(JsonNode? node, string name) =>
        node is JsonObject obj && Json.TryGetString(obj[name], out var value)
            ? value
            : throw new InvalidOperationException($"'{name}' is missing or not a string in {Json.ToCompactString(node).Replace("\n", "", StringComparison.Ordinal)}");
}
