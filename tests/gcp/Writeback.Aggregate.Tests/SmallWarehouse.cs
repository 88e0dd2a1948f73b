using Writeback.Aggregate.Warehouse;

namespace Writeback.Aggregate.Tests;

/// <summary>One small sample warehouse shared by the tests that only read it.</summary>
public sealed class SmallWarehouse : IDisposable
{
    public static readonly DateOnly Anchor = new(2026, 11, 25);

    public SmallWarehouse()
    {
        Folder = Directory.CreateTempSubdirectory("writeback-aggregate-").FullName;
        Path = System.IO.Path.Combine(Folder, "warehouse.duckdb");
        Info = SampleWarehouse.Generate(Path, SampleWarehouse.DefaultSeed, WarehouseSize.Small, Anchor);
    }

    public string Folder { get; }

    public string Path { get; }

    public WarehouseInfo Info { get; }

    public string NewOutputFolder() => Directory.CreateDirectory(System.IO.Path.Combine(Folder, "out-" + Guid.NewGuid().ToString("N"))).FullName;

    /// <summary>How many students are enrolled on a day (a few enrol during the generated years).</summary>
    public long EnrolledOn(DateOnly day)
    {
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"ATTACH '{Path}' AS w (READ_ONLY); SELECT count(*) FROM w.students WHERE enrolled_on <= DATE '{day:yyyy-MM-dd}'";
        return (long)command.ExecuteScalar()!;
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class SmallWarehouseGroup : ICollectionFixture<SmallWarehouse>
{
    public const string Name = "small warehouse";
}
