using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Writeback.Steps.Contract;

/// <summary>
/// Step inputs tolerate extra fields (the state machine may pass its own context along) but not missing or mistyped
/// ones. Nulls are written, so every output field the state machine reads is always present.
/// </summary>
[JsonSourceGenerationOptions(
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(PrepareInput))]
[JsonSerializable(typeof(PrepareOutput))]
[JsonSerializable(typeof(LoadShardInput))]
[JsonSerializable(typeof(LoadShardOutput))]
[JsonSerializable(typeof(BatchInput))]
[JsonSerializable(typeof(PublishInput))]
[JsonSerializable(typeof(VerifyOutput))]
[JsonSerializable(typeof(PublishOutput))]
[JsonSerializable(typeof(CleanupInput))]
[JsonSerializable(typeof(CleanupOutput))]
[JsonSerializable(typeof(ExecutionInput))]
[JsonSerializable(typeof(ExecutionOutput))]
public sealed partial class StepJson : JsonSerializerContext
{
    private static JsonSerializerOptions? s_observer;

    /// <summary>
    /// The same contract for code that watches steps rather than runs them (run history, the CLI's summaries): a field
    /// left out reads as its default instead of failing, and JSON that does not fit yields null. Watching must never fail a step.
    /// </summary>
    public static T? Observe<T>(string? json)
        where T : class
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(json, (JsonTypeInfo<T>)ObserverOptions.GetTypeInfo(typeof(T)));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>An enum value's wire name, as the contract writes it (<c>StepAction.Load</c> → <c>load</c>).</summary>
    public static string WireName<T>(T value)
        where T : struct, Enum =>
        JsonSerializer.SerializeToElement(value, (JsonTypeInfo<T>)Default.Options.GetTypeInfo(typeof(T))).GetString()!;

    private static JsonSerializerOptions ObserverOptions => s_observer ??= CreateObserverOptions();

    private static JsonSerializerOptions CreateObserverOptions()
    {
        var options = new JsonSerializerOptions(Default.Options)
        {
            RespectNullableAnnotations = false,
            RespectRequiredConstructorParameters = false,
            TypeInfoResolver = ((IJsonTypeInfoResolver)Default).WithAddedModifier(static info =>
            {
                foreach (var property in info.Properties)
                {
                    property.IsRequired = false;
                }
            }),
        };
        options.MakeReadOnly();
        return options;
    }
}
