namespace Writeback.Aggregate.Warehouse;

/// <summary>How big a sample warehouse to generate.</summary>
public enum WarehouseSize
{
    /// <summary>About 5,000 students: seconds to build, used by the end-to-end test.</summary>
    Small,

    /// <summary>About 1.05 million students, so one business date yields over 1M student_dashboard rows.</summary>
    Medium,

    /// <summary>About 3 million students.</summary>
    Large,
}

public static class WarehouseSizes
{
    public static bool TryParse(string? text, out WarehouseSize size) =>
        Enum.TryParse(text, ignoreCase: true, out size) && Enum.IsDefined(size);

    public static long Students(this WarehouseSize size) => size switch
    {
        WarehouseSize.Small => 5_000,
        WarehouseSize.Medium => 1_050_000,
        WarehouseSize.Large => 3_000_000,
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "unknown warehouse size"),
    };

    public static string Name(this WarehouseSize size) => size.ToString().ToLowerInvariant();
}
