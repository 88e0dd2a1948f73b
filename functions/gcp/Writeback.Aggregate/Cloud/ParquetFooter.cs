using System.Buffers.Binary;
using Parquet;

namespace Writeback.Aggregate.Cloud;

/// <summary>
/// Reads a Parquet file's row count from its footer alone, so a shard in object storage needs one small ranged
/// read rather than a second full download. The footer is the file's last bytes: metadata, its 4-byte length, "PAR1".
/// </summary>
internal static class ParquetFooter
{
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    /// <summary>How many tail bytes the footer needs, from a tail that holds at least the last 8 bytes.</summary>
    public static long RequiredTail(ReadOnlySpan<byte> tail)
    {
        if (tail.Length < 8 || !tail[^4..].SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a Parquet file (no PAR1 at the end)");
        }

        return BinaryPrimitives.ReadInt32LittleEndian(tail[^8..^4]) + 8L;
    }

    /// <summary>The row count recorded in the footer, read by Parquet.Net over a stream that holds only the head magic and the tail.</summary>
    public static async Task<long> RowCountAsync(byte[] tail, long fileLength, CancellationToken cancellationToken)
    {
        if (tail.Length < RequiredTail(tail))
        {
            throw new InvalidDataException("the tail does not hold the whole footer");
        }

        await using var stream = new SparseStream(fileLength, tail);
        await using var reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken);
        return reader.Metadata?.NumRows ?? throw new InvalidDataException("the Parquet footer has no metadata");
    }

    /// <summary>A read-only stream of the file's length that knows the first 4 bytes (the magic) and the tail; the rest reads as zeros and is never asked for.</summary>
    private sealed class SparseStream(long length, byte[] tail) : Stream
    {
        private readonly long _tailStart = length - tail.Length;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - Position);
            for (var i = 0; i < n; i++)
            {
                var at = Position + i;
                buffer[offset + i] = at < 4 ? Magic[at] : at >= _tailStart ? tail[at - _tailStart] : (byte)0;
            }

            Position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            Position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => Position + offset,
                _ => length + offset,
            };
            return Position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
