using System.Text;
using Microsoft.AspNetCore.Http;
using Writeback.Aggregate.Http;

namespace Writeback.Aggregate.Tests.Http;

public sealed class AggregateRequestReaderTests
{
    [Fact]
    public async Task A_scheduler_may_ask_for_yesterday_in_the_business_time_zone()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes("""{"dataset":"student_dashboard","businessDate":"yesterday"}"""));

        var (dataset, date) = await AggregateRequestReader.ReadAsync(context.Request, CancellationToken.None);

        var tokyoToday = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo")).DateTime);
        Assert.Equal("student_dashboard", dataset);
        Assert.Equal(tokyoToday.AddDays(-1), date);
    }
}
