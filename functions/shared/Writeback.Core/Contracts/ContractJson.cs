using System.Text.Json;
using System.Text.Json.Serialization;

namespace Writeback.Core.Contracts;

/// <summary>
/// Strict, source-generated JSON for the contracts: unknown, missing, duplicated or differently-cased fields are errors,
/// and numbers are numbers ("1" is not 1), as the committed schemas say. The web defaults would accept all of these.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNameCaseInsensitive = false,
    NumberHandling = JsonNumberHandling.Strict,
    AllowDuplicateProperties = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(Manifest))]
[JsonSerializable(typeof(Target))]
[JsonSerializable(typeof(BatchReadyEvent))]
public sealed partial class ContractJson : JsonSerializerContext;
