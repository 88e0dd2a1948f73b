using Writeback.Trigger.Events;

namespace Writeback.Trigger.Tests.Events;

public sealed class KnownDatasetsTests
{
    [Fact]
    public void The_known_datasets_are_those_of_the_target_contracts_in_the_targets_folder()
    {
        var directory = Directory.CreateTempSubdirectory("writeback-targets-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "student_dashboard.json"), """{"version":1,"dataset":"student_dashboard","table":"public.student_dashboard"}""");
            File.WriteAllText(Path.Combine(directory, "class_summary.json"), """{"version":1,"dataset":"class_summary","table":"public.class_summary"}""");
            File.WriteAllText(Path.Combine(directory, "README.md"), "not a target");

            var datasets = KnownDatasets.FromTargetsDirectory(directory);

            Assert.Equal(["class_summary", "student_dashboard"], datasets.Names.Order(StringComparer.Ordinal));
            Assert.True(datasets.Contains("student_dashboard"));
            Assert.False(datasets.Contains("payroll"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_missing_targets_folder_is_an_error_at_startup()
    {
        Assert.Throws<DirectoryNotFoundException>(() => KnownDatasets.FromTargetsDirectory(Path.Combine(Path.GetTempPath(), $"none-{Guid.NewGuid():N}")));
    }
}
