using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>Where a Distributed Map's items come from when they are not in its input: an object, or a listing, in S3.</summary>
internal enum ItemReaderKind { GetObject, ListObjects }

/// <summary>ReaderConfig InputType: how an object read with s3:getObject becomes items.</summary>
internal enum ItemInputType { Json, Jsonl, Csv, Manifest }

internal sealed class ItemReaderConfig
{
    public required ItemReaderKind Kind { get; init; }

    /// <summary>Bucket and Key (getObject) or Bucket and Prefix (listObjectsV2), paths allowed.</summary>
    public required PayloadTemplate Parameters { get; init; }

    public ItemInputType InputType { get; init; } = ItemInputType.Json;

    /// <summary>False: CSVHeaderLocation GIVEN, the headers are <see cref="CsvHeaders"/> and the first row is data.</summary>
    public bool CsvHeaderInFirstRow { get; init; } = true;

    public string[] CsvHeaders { get; init; } = [];

    public char CsvDelimiter { get; init; } = ',';

    public int? MaxItems { get; init; }

    public JsonPath? MaxItemsPath { get; init; }
}

internal sealed class ItemBatcherConfig
{
    public int? MaxItemsPerBatch { get; init; }

    public JsonPath? MaxItemsPerBatchPath { get; init; }

    public int? MaxInputBytesPerBatch { get; init; }

    public JsonPath? MaxInputBytesPerBatchPath { get; init; }

    public PayloadTemplate? BatchInput { get; init; }
}

/// <summary>WriterConfig Transformation: what of each child execution is kept.</summary>
internal enum ResultTransformation { None, Compact, Flatten }

internal sealed class ResultWriterConfig
{
    /// <summary>Bucket and Prefix to write to; null with only a WriterConfig (the results shape the state's output).</summary>
    public PayloadTemplate? Parameters { get; init; }

    public ResultTransformation Transformation { get; init; }

    public bool Jsonl { get; init; }
}

/// <summary>The fields only a Map in Mode DISTRIBUTED has.</summary>
internal sealed class DistributedMapConfig
{
    public bool Express { get; init; }

    /// <summary>Names the Map Run and the child executions' state machine (<c>machine/label</c>); the state's name by default.</summary>
    public required string Label { get; init; }

    public ItemReaderConfig? ItemReader { get; init; }

    public ItemBatcherConfig? ItemBatcher { get; init; }

    public ResultWriterConfig? ResultWriter { get; init; }

    public int? ToleratedFailureCount { get; init; }

    public JsonPath? ToleratedFailureCountPath { get; init; }

    public double? ToleratedFailurePercentage { get; init; }

    public JsonPath? ToleratedFailurePercentagePath { get; init; }
}

public sealed partial class StateMachineDefinition
{
    /// <summary>The most child executions a Distributed Map runs at once, whatever MaxConcurrency says.</summary>
    internal const int DistributedMaxConcurrency = 10_000;

    /// <summary>The service's ceiling on MaxInputBytesPerBatch: one child execution's input, 256 KiB.</summary>
    private const int MaxBatchBytes = 256 * 1024;

    private static readonly string[] ReaderConfigFields = ["InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "MaxItems", "MaxItemsPath"];
    private static readonly string[] BatcherFields = ["MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath", "BatchInput"];

    /// <summary>A child execution runs the item processor as if it were a state machine of its own.</summary>
    internal static StateMachineDefinition ForChildExecutions(StateGraph processor) => new() { Graph = processor };

    private static bool IsDistributed(JsonObject map) =>
        map["ItemProcessor"] is JsonObject processor && processor["ProcessorConfig"] is JsonObject config && Json.TryGetString(config["Mode"], out var mode) && mode == "DISTRIBUTED";

    private void ParseDistributedMap(MapState state, JsonObject obj, string where)
    {
        var config = (JsonObject)((JsonObject)obj["ItemProcessor"]!)["ProcessorConfig"]!;
        var executionType = Str(config, "ExecutionType", where, false);
        if (executionType is not ("STANDARD" or "EXPRESS"))
        {
            _errors.Add($"{where}: a Distributed Map's ProcessorConfig needs ExecutionType STANDARD or EXPRESS.");
        }

        var label = Str(obj, "Label", where, false) ?? state.Name;
        if (obj.ContainsKey("Label") && (label.Length is 0 or > 40 || !label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            _errors.Add($"{where}: Label '{label}' must have 1 to 40 characters of [0-9A-Za-z_-].");
        }

        if (state.MaxConcurrency > DistributedMaxConcurrency)
        {
            _errors.Add($"{where}: MaxConcurrency {state.MaxConcurrency} is above the Distributed Map's limit of {DistributedMaxConcurrency}.");
        }

        var percentage = obj["ToleratedFailurePercentage"] is { } p
            ? (Json.TryGetNumber(p, out var pv) && pv is >= 0 and <= 100 ? pv : Bad<double>($"{where}: ToleratedFailurePercentage must be a number from 0 to 100."))
            : (double?)null;
        var count = obj["ToleratedFailureCount"] is { } c
            ? (Json.TryGetInteger(c, out var cv) && cv >= 0 && cv <= int.MaxValue ? (int)cv : Bad<int>($"{where}: ToleratedFailureCount must be a non-negative integer."))
            : (int?)null;
        var percentagePath = Path(obj, "ToleratedFailurePercentagePath", where, definite: true);
        var countPath = Path(obj, "ToleratedFailureCountPath", where, definite: true);
        Exclusive(obj, where, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath");
        Exclusive(obj, where, "ToleratedFailureCount", "ToleratedFailureCountPath");

        var reader = obj["ItemReader"] is { } r ? ParseItemReader(r, $"{where}: ItemReader") : null;
        if (reader is not null && obj.ContainsKey("ItemsPath"))
        {
            _errors.Add($"{where}: ItemsPath and ItemReader are mutually exclusive; the items come from one or the other.");
        }

        state.Distributed = new DistributedMapConfig
        {
            Express = executionType == "EXPRESS",
            Label = label,
            ItemReader = reader,
            ItemBatcher = obj["ItemBatcher"] is { } b ? ParseItemBatcher(b, $"{where}: ItemBatcher") : null,
            ResultWriter = obj["ResultWriter"] is { } w ? ParseResultWriter(w, $"{where}: ResultWriter") : null,
            ToleratedFailureCount = count,
            ToleratedFailureCountPath = countPath,
            ToleratedFailurePercentage = percentage,
            ToleratedFailurePercentagePath = percentagePath,
        };
    }

    private ItemReaderConfig? ParseItemReader(JsonNode node, string where)
    {
        if (node is not JsonObject obj)
        {
            _errors.Add($"{where} must be an object.");
            return null;
        }

        UnknownFields(obj, where, "Resource", "Parameters", "ReaderConfig");
        var resource = Str(obj, "Resource", where, true);
        var kind = resource switch
        {
            "arn:aws:states:::s3:getObject" => ItemReaderKind.GetObject,
            "arn:aws:states:::s3:listObjectsV2" => ItemReaderKind.ListObjects,
            null => ItemReaderKind.GetObject,
            _ => Bad<ItemReaderKind>($"{where}: Resource '{resource}' is not arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2."),
        };
        var parameters = obj["Parameters"] is JsonObject ? Template(obj, "Parameters", where) : null;
        if (parameters is null)
        {
            _errors.Add($"{where}: needs Parameters with Bucket and {(kind == ItemReaderKind.GetObject ? "Key" : "Prefix")}.");
        }

        var config = obj["ReaderConfig"] as JsonObject ?? [];
        UnknownFields(config, $"{where}: ReaderConfig", ReaderConfigFields);
        var inputType = Str(config, "InputType", where, false) switch
        {
            null or "JSON" => ItemInputType.Json,
            "JSONL" => ItemInputType.Jsonl,
            "CSV" => ItemInputType.Csv,
            "MANIFEST" => ItemInputType.Manifest,
            var other => Bad<ItemInputType>($"{where}: ReaderConfig InputType '{other}' is not JSON, JSONL, CSV or MANIFEST."),
        };
        if (kind == ItemReaderKind.ListObjects && config.ContainsKey("InputType"))
        {
            _errors.Add($"{where}: s3:listObjectsV2 lists objects; ReaderConfig InputType is for s3:getObject.");
        }

        if (kind == ItemReaderKind.GetObject && !config.ContainsKey("InputType"))
        {
            _errors.Add($"{where}: ReaderConfig InputType is required with s3:getObject (JSON, JSONL, CSV or MANIFEST).");
        }

        var headerLocation = Str(config, "CSVHeaderLocation", where, false);
        var headers = config["CSVHeaders"] is JsonArray h && h.All(x => Json.TryGetString(x, out _)) ? h.Select(x => x!.GetValue<string>()).ToArray() : null;
        if (inputType == ItemInputType.Csv)
        {
            if (headerLocation is not ("FIRST_ROW" or "GIVEN"))
            {
                _errors.Add($"{where}: ReaderConfig CSVHeaderLocation must be FIRST_ROW or GIVEN for CSV.");
            }
            else if (headerLocation == "GIVEN" && (headers is null || headers.Length == 0))
            {
                _errors.Add($"{where}: ReaderConfig CSVHeaderLocation GIVEN needs CSVHeaders, a non-empty array of strings.");
            }
            else if (headerLocation == "FIRST_ROW" && config.ContainsKey("CSVHeaders"))
            {
                _errors.Add($"{where}: ReaderConfig CSVHeaders goes with CSVHeaderLocation GIVEN, not FIRST_ROW.");
            }
        }
        else if (headerLocation is not null || config.ContainsKey("CSVHeaders") || config.ContainsKey("CSVDelimiter"))
        {
            _errors.Add($"{where}: ReaderConfig CSVHeaderLocation, CSVHeaders and CSVDelimiter apply to InputType CSV only.");
        }

        var delimiter = Str(config, "CSVDelimiter", where, false) switch
        {
            null or "COMMA" => ',',
            "PIPE" => '|',
            "SEMICOLON" => ';',
            "SPACE" => ' ',
            "TAB" => '\t',
            var other => Bad<char>($"{where}: ReaderConfig CSVDelimiter '{other}' is not COMMA, PIPE, SEMICOLON, SPACE or TAB."),
        };
        Exclusive(config, $"{where}: ReaderConfig", "MaxItems", "MaxItemsPath");
        var maxItemsPath = Path(config, "MaxItemsPath", where, definite: true);
        return parameters is null ? null : new ItemReaderConfig
        {
            Kind = kind,
            Parameters = parameters,
            InputType = inputType,
            CsvHeaderInFirstRow = headerLocation != "GIVEN",
            CsvHeaders = headers ?? [],
            CsvDelimiter = delimiter,
            MaxItems = Bounded(config, "MaxItems", $"{where}: ReaderConfig", 1, 100_000_000),
            MaxItemsPath = maxItemsPath,
        };
    }

    private ItemBatcherConfig? ParseItemBatcher(JsonNode node, string where)
    {
        if (node is not JsonObject obj)
        {
            _errors.Add($"{where} must be an object.");
            return null;
        }

        UnknownFields(obj, where, BatcherFields);
        if (!BatcherFields[..4].Any(obj.ContainsKey))
        {
            _errors.Add($"{where}: needs at least one of MaxItemsPerBatch, MaxItemsPerBatchPath, MaxInputBytesPerBatch or MaxInputBytesPerBatchPath.");
        }

        Exclusive(obj, where, "MaxItemsPerBatch", "MaxItemsPerBatchPath");
        Exclusive(obj, where, "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath");
        if (obj.ContainsKey("BatchInput") && obj["BatchInput"] is not JsonObject)
        {
            _errors.Add($"{where}: BatchInput must be an object.");
        }

        var itemsPath = Path(obj, "MaxItemsPerBatchPath", where, definite: true);
        var bytesPath = Path(obj, "MaxInputBytesPerBatchPath", where, definite: true);
        return new ItemBatcherConfig
        {
            MaxItemsPerBatch = Bounded(obj, "MaxItemsPerBatch", where, 1, int.MaxValue),
            MaxItemsPerBatchPath = itemsPath,
            MaxInputBytesPerBatch = Bounded(obj, "MaxInputBytesPerBatch", where, 1, MaxBatchBytes),
            MaxInputBytesPerBatchPath = bytesPath,
            BatchInput = obj["BatchInput"] is JsonObject ? Template(obj, "BatchInput", where) : null,
        };
    }

    private ResultWriterConfig? ParseResultWriter(JsonNode node, string where)
    {
        if (node is not JsonObject obj)
        {
            _errors.Add($"{where} must be an object.");
            return null;
        }

        UnknownFields(obj, where, "Resource", "Parameters", "WriterConfig");
        var resource = Str(obj, "Resource", where, false);
        if (resource is not (null or "arn:aws:states:::s3:putObject"))
        {
            _errors.Add($"{where}: Resource '{resource}' is not arn:aws:states:::s3:putObject.");
        }

        if ((resource is null) != !obj.ContainsKey("Parameters"))
        {
            _errors.Add($"{where}: Resource and Parameters (Bucket, Prefix) go together.");
        }

        var config = obj["WriterConfig"] as JsonObject;
        if (resource is null && config is null)
        {
            _errors.Add($"{where}: cannot be empty; give Resource and Parameters, a WriterConfig, or all three.");
        }

        config ??= [];
        UnknownFields(config, $"{where}: WriterConfig", "Transformation", "OutputType");
        var transformation = Str(config, "Transformation", where, false) switch
        {
            null => resource is null ? ResultTransformation.Compact : ResultTransformation.None,
            "NONE" => ResultTransformation.None,
            "COMPACT" => ResultTransformation.Compact,
            "FLATTEN" => ResultTransformation.Flatten,
            var other => Bad<ResultTransformation>($"{where}: WriterConfig Transformation '{other}' is not NONE, COMPACT or FLATTEN."),
        };
        var outputType = Str(config, "OutputType", where, false);
        if (outputType is not (null or "JSON" or "JSONL"))
        {
            _errors.Add($"{where}: WriterConfig OutputType '{outputType}' is not JSON or JSONL.");
        }

        return new ResultWriterConfig
        {
            Parameters = obj["Parameters"] is JsonObject ? Template(obj, "Parameters", where) : null,
            Transformation = transformation,
            Jsonl = outputType == "JSONL",
        };
    }

    private void UnknownFields(JsonObject obj, string where, params string[] known)
    {
        foreach (var key in obj.Select(p => p.Key).Where(k => !known.Contains(k)))
        {
            _errors.Add($"{where}: unknown field '{key}'.");
        }
    }

    private void Exclusive(JsonObject obj, string where, string a, string b)
    {
        if (obj.ContainsKey(a) && obj.ContainsKey(b))
        {
            _errors.Add($"{where}: {a} and {b} are mutually exclusive.");
        }
    }

    private int? Bounded(JsonObject obj, string key, string where, long min, long max)
    {
        if (obj[key] is not { } value)
        {
            return null;
        }

        return Json.TryGetInteger(value, out var v) && v >= min && v <= max ? (int)v : Bad<int>($"{where}: {key} must be an integer from {min} to {max}.");
    }
}
