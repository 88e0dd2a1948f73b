using Writeback.Trigger.Executions;

namespace Writeback.Trigger.Tests.Executions;

public sealed class ExecutionNameTests
{
    [Theory]
    [InlineData("student_dashboard-2026-11-25-001", "student_dashboard-2026-11-25-001")]
    [InlineData("a/b c", "a_b_c")]
    public void An_execution_name_is_the_batch_id_with_only_allowed_characters(string batchId, string expected)
    {
        Assert.Equal(expected, ExecutionName.FromBatchId(batchId));
    }

    [Fact]
    public void An_execution_name_is_at_most_80_characters()
    {
        Assert.Equal(80, ExecutionName.FromBatchId(new string('x', 100)).Length);
    }
}
