using Microsoft.Extensions.Time.Testing;
using static Writeback.StepFunctions.Tests.TestKit;

namespace Writeback.StepFunctions.Tests;

/// <summary>The engine's clock is injectable: a FakeTimeProvider holds a Wait until the test moves time on.</summary>
public sealed class ClockTests
{
    [Fact]
    public async Task A_Wait_on_a_FakeTimeProvider_ends_only_when_the_test_advances_time()
    {
        var time = new ObservedFakeTimeProvider(Start);
        var engine = new StepFunctionsEngine(new StepFunctionsEngineOptions { TimeProvider = time, RandomSeed = 1 });
        var machine = engine.CreateStateMachine("wait", """{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":600,"End":true}}}""");
        var execution = engine.StartExecution(machine, "{}");
        await time.TimerCreated;

        time.Advance(TimeSpan.FromSeconds(599));
        Assert.Equal(ExecutionStatus.Running, execution.Status);
        time.Advance(TimeSpan.FromSeconds(1));
        await execution.Completion;
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        Assert.Equal(TimeSpan.FromMinutes(10), execution.StopDate - execution.StartDate);
    }

    [Fact]
    public async Task A_VirtualClock_lets_a_day_of_Waits_pass_without_sleeping()
    {
        var clock = new VirtualClock(Start);
        var execution = await Run("""{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"Next":"W2"},"W2":{"Type":"Wait","Seconds":86400,"End":true}}}""", clock: clock);
        Assert.Equal(ExecutionStatus.Succeeded, execution.Status);
        Assert.Equal(Start.AddDays(2), clock.GetUtcNow());
    }

    /// <summary>Tells the test when the engine has armed its timer, so advancing time never races the Wait.</summary>
    private sealed class ObservedFakeTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly TaskCompletionSource _created = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task TimerCreated => _created.Task;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            _created.TrySetResult();
            return timer;
        }
    }
}
