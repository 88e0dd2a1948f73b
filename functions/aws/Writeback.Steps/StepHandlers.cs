using Npgsql;
using Writeback.Core.Contracts;
using Writeback.Core.Engine;
using Writeback.Core.Loading;
using Writeback.Core.Storage;
using Writeback.Functions;

namespace Writeback.Steps;

/// <summary>The five load-engine functions, sharing one connection pool and one contract catalog.</summary>
public static class StepHandlers
{
    private static readonly HttpClient Http = BatchFiles.CreateHttpClient(TimeSpan.FromMinutes(10));

    public static LoadEngine CreateEngine(StepOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return CreateEngine(options, LoaderDataSource.Create(options.ConnectionString));
    }

    /// <summary>An engine over a data source the host owns (the writer host shares one with run history).</summary>
    public static LoadEngine CreateEngine(StepOptions options, NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataSource);
        return new LoadEngine(dataSource, TargetCatalog.FromDirectory(options.TargetsDirectory), new BatchFiles(Http, options.Sources));
    }

    public static IReadOnlyList<IFunctionHandler> Create(StepOptions options) => Create(CreateEngine(options));

    public static IReadOnlyList<IFunctionHandler> Create(LoadEngine engine) =>
    [
        new PrepareHandler(engine),
        new LoadShardHandler(engine),
        new VerifyHandler(engine),
        new PublishHandler(engine),
        new CleanupHandler(engine),
    ];
}
