using System.Diagnostics.CodeAnalysis;
using Writeback.Core.Contracts;

namespace Writeback.Aggregate;

/// <summary>
/// A dataset this function produces: the model that computes it and the columns its shards carry, in the
/// target contract's names and PostgreSQL types (targets/&lt;dataset&gt;.json). The exporter checks the model's
/// actual result against these before writing anything. <paramref name="SchemaVersion"/> is the contract's schema
/// version these columns are (its <c>history</c>), written into every manifest; a new version changes both together.
/// </summary>
public sealed record DatasetDefinition(string Name, string Model, IReadOnlyList<ShardColumn> Columns, IReadOnlyList<string> Key, int SchemaVersion = 1);

public static class Datasets
{
    public static DatasetDefinition StudentDashboard { get; } = new(
        "student_dashboard",
        "student_dashboard",
        [
            Column("student_id", "bigint"),
            Column("school_id", "integer"),
            Column("class_id", "integer"),
            Column("business_date", "date"),
            Column("study_minutes", "integer"),
            Column("math_minutes", "integer"),
            Column("language_minutes", "integer"),
            Column("science_minutes", "integer"),
            Column("tests_taken", "smallint"),
            Column("average_score", "numeric(5,2)"),
            Column("best_score", "numeric(5,2)"),
            Column("last_active_at", "timestamptz"),
        ],
        ["student_id", "business_date"]);

    public static DatasetDefinition ClassSummary { get; } = new(
        "class_summary",
        "class_summary",
        [
            Column("class_id", "integer"),
            Column("school_id", "integer"),
            Column("business_date", "date"),
            Column("active_students", "integer"),
            Column("total_study_minutes", "bigint"),
            Column("average_score", "numeric(5,2)"),
            Column("tests_taken", "integer"),
        ],
        ["class_id", "business_date"]);

    public static IReadOnlyList<DatasetDefinition> All { get; } = [StudentDashboard, ClassSummary];

    public static bool TryGet(string? name, [NotNullWhen(true)] out DatasetDefinition? dataset)
    {
        dataset = All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.Ordinal));
        return dataset is not null;
    }

    private static ShardColumn Column(string name, string type) => new() { Name = name, Type = type };
}
