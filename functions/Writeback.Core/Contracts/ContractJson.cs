using System.Text.Json;
using System.Text.Json.Serialization;

namespace Writeback.Core.Contracts;

/// <summary>Strict, source-generated JSON for the contracts: unknown or missing fields are errors, never ignored.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(Manifest))]
[JsonSerializable(typeof(Target))]
[JsonSerializable(typeof(BatchReadyEvent))]
public sealed partial class ContractJson : JsonSerializerContext;
