using Writeback.Aggregate.Http;

var app = AggregateFunction.Build(args);
app.Run();
