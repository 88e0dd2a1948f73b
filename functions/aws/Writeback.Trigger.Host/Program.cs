using Writeback.Trigger.Host;
using Writeback.Lambda.Runtime;

// Missing configuration (state machine ARN, audience) is reported as an init error.
return await LambdaBootstrap.RunAsync(args, () => TriggerHandlers.Names, _ => TriggerHandlers.Create());
