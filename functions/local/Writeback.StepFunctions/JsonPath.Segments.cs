using System.Text.Json;
using System.Text.Json.Nodes;

namespace Writeback.StepFunctions;

/// <summary>What a compiled path is made of: the segments that select from a node, and the filters they test.</summary>
public sealed partial class JsonPath
{
    private enum SegmentKind { Name, Index, Wildcard, Slice, Union, Descend, Filter }

    private sealed class Segment
    {
        public SegmentKind Kind { get; init; }
        public string? Name { get; init; }
        public int Start { get; init; }
        public int? End { get; init; }
        public int Step { get; init; } = 1;
        public Segment[]? Alternatives { get; init; }
        public Segment? Inner { get; init; }
        public Filter? Filter { get; init; }

        public void Select(JsonNode? node, List<JsonNode?> output)
        {
            switch (Kind)
            {
                case SegmentKind.Name:
                    if (node is JsonObject o && o.TryGetPropertyValue(Name!, out var v))
                    {
                        output.Add(v);
                    }

                    break;
                case SegmentKind.Index:
                    if (node is JsonArray a)
                    {
                        var i = Start < 0 ? a.Count + Start : Start;
                        if (i >= 0 && i < a.Count)
                        {
                            output.Add(a[i]);
                        }
                    }

                    break;
                case SegmentKind.Wildcard:
                    if (node is JsonObject wo)
                    {
                        output.AddRange(wo.Select(p => p.Value));
                    }
                    else if (node is JsonArray wa)
                    {
                        output.AddRange(wa);
                    }

                    break;
                case SegmentKind.Slice:
                    if (node is JsonArray sa)
                    {
                        var n = sa.Count;
                        var start = Start < 0 ? Math.Max(0, n + Start) : Math.Min(Start, n);
                        var end = End is null ? n : End < 0 ? Math.Max(0, n + End.Value) : Math.Min(End.Value, n);
                        for (var i = start; i < end; i += Step)
                        {
                            output.Add(sa[i]);
                        }
                    }

                    break;
                case SegmentKind.Union:
                    foreach (var alt in Alternatives!)
                    {
                        alt.Select(node, output);
                    }

                    break;
                case SegmentKind.Descend:
                    Descend(node, output);
                    break;
                case SegmentKind.Filter:
                    IEnumerable<JsonNode?> children = node switch
                    {
                        JsonArray fa => fa,
                        JsonObject fo => fo.Select(p => p.Value),
                        _ => [],
                    };
                    output.AddRange(children.Where(c => Filter!.Matches(c)));
                    break;
                default:
                    throw new InvalidOperationException();
            }
        }

        private void Descend(JsonNode? node, List<JsonNode?> output)
        {
            Inner!.Select(node, output);
            if (node is JsonObject o)
            {
                foreach (var p in o)
                {
                    Descend(p.Value, output);
                }
            }
            else if (node is JsonArray a)
            {
                foreach (var item in a)
                {
                    Descend(item, output);
                }
            }
        }
    }

    /// <summary><c>?(@.a.b op literal)</c>, or <c>?(@.a)</c> for existence; the subset ASL definitions use in practice.</summary>
    private sealed class Filter
    {
        public required JsonPath Left { get; init; }
        public string? Operator { get; init; }
        public JsonNode? Right { get; init; }

        public bool Matches(JsonNode? item)
        {
            if (!Left.TryEvaluate(item, out var value))
            {
                return false;
            }

            if (Operator is null)
            {
                return true;
            }

            if (Operator is "==" or "!=")
            {
                var equal = JsonNode.DeepEquals(value, Right);
                return Operator == "==" ? equal : !equal;
            }

            int comparison;
            if (Json.TryGetNumber(value, out var l) && Json.TryGetNumber(Right, out var r))
            {
                comparison = l.CompareTo(r);
            }
            else if (value?.GetValueKind() == JsonValueKind.String && Right?.GetValueKind() == JsonValueKind.String)
            {
                comparison = string.CompareOrdinal(value.GetValue<string>(), Right.GetValue<string>());
            }
            else
            {
                return false;
            }

            return Operator switch
            {
                "<" => comparison < 0,
                "<=" => comparison <= 0,
                ">" => comparison > 0,
                ">=" => comparison >= 0,
                _ => false,
            };
        }
    }
}
