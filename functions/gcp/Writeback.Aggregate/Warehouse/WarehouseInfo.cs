namespace Writeback.Aggregate.Warehouse;

/// <summary>What a generated sample warehouse holds: recorded inside it so a later run can tell whether it can be reused.</summary>
public sealed record WarehouseInfo(
    string Path,
    long Seed,
    WarehouseSize Size,
    DateOnly FirstDate,
    DateOnly LastDate,
    long Students,
    long Classes,
    long Schools,
    long StudySessions,
    long TestResults,
    int GeneratorVersion)
{
    public bool Covers(DateOnly date) => date >= FirstDate && date <= LastDate;
}
