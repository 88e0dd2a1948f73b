namespace Writeback.StepFunctions.Jsonata;

/// <summary>
/// Where <c>$random</c>, <c>$uuid</c> and <c>$shuffle</c> draw from. The Step Functions engine passes its own, seeded
/// when the engine is, so those functions repeat like States.MathRandom and States.UUID; without one they use the
/// process's shared randomness.
/// </summary>
public interface IJsonataRandomness
{
    double NextDouble();

    void NextBytes(Span<byte> bytes);
}

internal static class RandomDraws
{
    public static double NextDouble(IJsonataRandomness? randomness) => randomness?.NextDouble() ?? Random.Shared.NextDouble();

    /// <summary>A version 4 UUID from the given randomness (RFC 9562: version nibble 4, variant bits 10).</summary>
    public static string Uuid(IJsonataRandomness? randomness)
    {
        if (randomness is null)
        {
            return Guid.NewGuid().ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        randomness.NextBytes(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString();
    }

    /// <summary>Fisher–Yates, so every order is equally likely.</summary>
    public static JList Shuffle(JList list, IJsonataRandomness? randomness)
    {
        var items = list.ToList();
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = (int)(NextDouble(randomness) * (i + 1));
            (items[i], items[j]) = (items[j], items[i]);
        }

        return new JList(items);
    }
}
