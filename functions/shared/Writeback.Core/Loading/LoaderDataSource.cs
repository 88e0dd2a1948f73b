using Npgsql;

namespace Writeback.Core.Loading;

/// <summary>The data source the load engine needs, built in one place for the steps, the writers and the tests.</summary>
public static class LoaderDataSource
{
    public static NpgsqlDataSource Create(string connectionString, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        configure?.Invoke(builder.ConnectionStringBuilder);
        return builder.Build();
    }
}
