using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Writeback.Telemetry;

/// <summary>
/// One JSON object per line (<c>time, level, message, batchId, traceId, spanId, …fields</c>): what CloudWatch Logs
/// Insights and any log pipeline can filter on. Every line names the batch and the trace when they are known, so a
/// trace id from an alert finds the logs, and the logs find the trace.
/// </summary>
public sealed class StructuredLog
{
    private readonly TextWriter? _writer;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    public StructuredLog(TextWriter writer, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        _time = time ?? TimeProvider.System;
    }

    private StructuredLog()
    {
        _time = TimeProvider.System;
    }

    /// <summary>Discards everything (for hosts whose console belongs to a human, like the demo).</summary>
    public static StructuredLog None { get; } = new();

    /// <summary>Standard output: what Lambda ships to CloudWatch Logs.</summary>
    public static StructuredLog Stdout { get; } = new(Console.Out);

    /// <summary>Appends to a file (created with its folder), shared by every writer in the process.</summary>
    public static StructuredLog ToFile(string path, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        return new StructuredLog(TextWriter.Synchronized(new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true }), time);
    }

    public void Info(string message, string? batchId, string? traceId = null, params ReadOnlySpan<KeyValuePair<string, object?>> fields) =>
        Write("info", message, batchId, traceId, fields);

    public void Warn(string message, string? batchId, string? traceId = null, params ReadOnlySpan<KeyValuePair<string, object?>> fields) =>
        Write("warn", message, batchId, traceId, fields);

    public void Error(string message, string? batchId, string? traceId = null, params ReadOnlySpan<KeyValuePair<string, object?>> fields) =>
        Write("error", message, batchId, traceId, fields);

    public void Write(string level, string message, string? batchId, string? traceId, ReadOnlySpan<KeyValuePair<string, object?>> fields)
    {
        if (_writer is null)
        {
            return;
        }

        var line = Format(_time.GetUtcNow(), level, message, batchId, traceId, fields);
        lock (_gate)
        {
            _writer.WriteLine(line);
        }
    }

    /// <summary>The JSON line, without its newline; the ambient span fills in trace and span ids the caller left out.</summary>
    public static string Format(DateTimeOffset time, string level, string message, string? batchId, string? traceId, ReadOnlySpan<KeyValuePair<string, object?>> fields)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("level", level);
            json.WriteString("message", message);
            var activity = Activity.Current;
            WriteOptional(json, "batchId", batchId);
            WriteOptional(json, "traceId", traceId ?? activity?.TraceId.ToHexString());
            WriteOptional(json, "spanId", activity?.SpanId.ToHexString());
            foreach (var (key, value) in fields)
            {
                WriteValue(json, key, value);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteValue(Utf8JsonWriter json, string name, object? value)
    {
        switch (value)
        {
            case null: json.WriteNull(name); break;
            case string s: json.WriteString(name, s); break;
            case bool b: json.WriteBoolean(name, b); break;
            case int i: json.WriteNumber(name, i); break;
            case long l: json.WriteNumber(name, l); break;
            case double d: json.WriteNumber(name, Math.Round(d, 3)); break;
            case TimeSpan t: json.WriteNumber(name, Math.Round(t.TotalMilliseconds, 3)); break;
            case DateTimeOffset at: json.WriteString(name, at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)); break;
            case IFormattable f: json.WriteString(name, f.ToString(null, CultureInfo.InvariantCulture)); break;
            default: json.WriteString(name, value.ToString()); break;
        }
    }
}
