namespace Writeback.Cli.Local;

/// <summary>
/// The functions' processes' output (their structured logs, one JSON line per step) in one file, as CloudWatch Logs would
/// keep it: the console stays readable and nothing a function prints is lost.
/// </summary>
internal sealed class FunctionLog : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly Lock _gate = new();

    private FunctionLog(StreamWriter writer) => _writer = writer;

    public string Path { get; private init; } = "";

    public static FunctionLog Open(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return new FunctionLog(new StreamWriter(path, append: true) { AutoFlush = true }) { Path = path };
    }

    public void Write(string line)
    {
        lock (_gate)
        {
            _writer.WriteLine(line);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _writer.Dispose();
        }
    }
}
