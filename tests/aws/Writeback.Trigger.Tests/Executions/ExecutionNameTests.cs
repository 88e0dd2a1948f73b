using Writeback.Trigger.Executions;

namespace Writeback.Trigger.Tests.Executions;

public sealed class ExecutionNameTests
{
    private static readonly string Longest = new('b', ExecutionName.MaxLength);

    [Fact]
    public void The_first_attempt_is_named_after_the_batch_id_itself()
    {
        Assert.Equal("student_dashboard-20261125-db06ed46a5dfc527", ExecutionName.ForAttempt("student_dashboard-20261125-db06ed46a5dfc527", 1));
    }

    [Theory]
    [InlineData("b1")]
    [InlineData("student_dashboard-20261125-db06ed46a5dfc527-1764118923456")]
    [InlineData("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")]
    public void Every_attempt_name_is_a_valid_execution_name_even_for_an_80_character_batch_id(string batchId)
    {
        for (var attempt = 1; attempt <= ExecutionAttempts.MaxAttempts; attempt++)
        {
            var name = ExecutionName.ForAttempt(batchId, attempt);
            Assert.InRange(name.Length, 1, ExecutionName.MaxLength);
            Assert.All(name, c => Assert.True(ExecutionName.IsAllowed(c), $"'{c}' in {name}"));
        }
    }

    [Fact]
    public void Attempt_names_are_the_same_on_every_delivery_and_differ_between_attempts()
    {
        var names = Enumerable.Range(1, ExecutionAttempts.MaxAttempts).Select(a => ExecutionName.ForAttempt(Longest, a)).ToList();

        Assert.Equal(names, Enumerable.Range(1, ExecutionAttempts.MaxAttempts).Select(a => ExecutionName.ForAttempt(Longest, a)));
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Long_batch_ids_that_differ_only_at_the_end_keep_distinct_retry_names()
    {
        var one = Longest[..^1] + "1";
        var two = Longest[..^1] + "2";

        Assert.NotEqual(ExecutionName.ForAttempt(one, 2), ExecutionName.ForAttempt(two, 2));
    }
}
