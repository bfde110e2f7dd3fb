internal import CZlib

/// Deflate compression of message bodies (RFC 1950 zlib streams, as HTTP's `deflate`
/// content coding carries them), with a hard ceiling on inflated size.
///
/// Why a ceiling: a few kilobytes of deflate can expand to gigabytes. Inflation stops as soon
/// as the output would pass `inflatedBytesMax` and throws ``WireError/Code/inflatedTooLarge``,
/// so a hostile body costs at most that much memory.
public enum Deflate {
    /// The largest compressed input accepted, whatever the inflated limit: zlib counts input
    /// in 32-bit units, and no FieldSync body comes near this.
    public static let compressedBytesMax = 1 << 30

    /// zlib's window: 2^15 bytes, with the zlib header and Adler-32 checksum (not raw deflate),
    /// so that a corrupted body is detected rather than decoded into garbage.
    static let windowBits: Int32 = 15

    /// Compresses `bytes` into a zlib stream (or, with `gzip`, a gzip file: the same deflate data
    /// with gzip's header and CRC-32, as `gzip -6` writes it; FieldSync's frames never use it).
    ///
    /// - Parameters:
    ///   - bytes: The uncompressed body.
    ///   - level: zlib's level, 0 (store) to 9 (smallest); 6 is zlib's default balance.
    ///   - gzip: Write gzip's container instead of zlib's.
    /// - Throws: ``WireError`` with ``WireError/Code/compressionFailed`` if zlib cannot allocate,
    ///   or ``WireError/Code/compressedTooLarge`` if the input is over ``compressedBytesMax``.
    public static func compress(_ bytes: [UInt8], level: Int = 6, gzip: Bool = false) throws(WireError) -> [UInt8] {
        precondition((0...9).contains(level), "zlib levels run from 0 to 9")
        guard bytes.count <= compressedBytesMax else {
            throw WireError(.compressedTooLarge, "a body of \(bytes.count) bytes is over the \(compressedBytesMax)-byte limit")
        }
        var stream = z_stream()
        guard fieldsync_deflateInit2(&stream, Int32(level), gzip ? windowBits + 16 : windowBits, 8) == Z_OK else {
            throw WireError(.compressionFailed, "zlib could not start a deflate stream")
        }
        defer { deflateEnd(&stream) }

        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))))
        let status: Int32 = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        // deflateBound guarantees one Z_FINISH call completes the stream.
        guard status == Z_STREAM_END else {
            throw WireError(.compressionFailed, "zlib deflate stopped early (status \(status))")
        }
        output.removeLast(output.count - Int(stream.total_out))
        return output
    }

    /// Inflates a zlib stream, refusing to produce more than `inflatedBytesMax` bytes.
    ///
    /// - Parameters:
    ///   - bytes: A complete zlib stream; bytes after its end are an error.
    ///   - inflatedBytesMax: The most bytes the result may hold.
    /// - Throws: ``WireError`` with ``WireError/Code/inflatedTooLarge`` past the limit,
    ///   ``WireError/Code/corruptCompression`` for anything that is not one whole valid stream.
    public static func decompress(_ bytes: [UInt8], inflatedBytesMax: Int) throws(WireError) -> [UInt8] {
        precondition(inflatedBytesMax >= 0, "a limit cannot be negative")
        guard bytes.count <= compressedBytesMax else {
            throw WireError(.compressedTooLarge, "a body of \(bytes.count) bytes is over the \(compressedBytesMax)-byte limit")
        }
        var stream = z_stream()
        guard fieldsync_inflateInit2(&stream, windowBits) == Z_OK else {
            throw WireError(.compressionFailed, "zlib could not start an inflate stream")
        }
        defer { inflateEnd(&stream) }

        // Grow the output in steps, never past the limit plus one byte (the byte that tells
        // us the stream wanted more than the limit).
        let ceiling = inflatedBytesMax + 1
        var output = [UInt8](repeating: 0, count: min(ceiling, max(4096, bytes.count * 4)))
        var status: Int32 = Z_OK
        try bytes.withUnsafeBufferPointer { (input) throws(WireError) in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                let produced = Int(stream.total_out)
                if produced == output.count {
                    guard output.count < ceiling else { break }
                    output.append(contentsOf: repeatElement(0, count: min(ceiling, output.count * 2) - output.count))
                }
                status = output.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = uInt(out.count - produced)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                switch status {
                case Z_STREAM_END:
                    return
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_out == 0:
                    continue  // out of room: the top of the loop grows the output
                case Z_BUF_ERROR:
                    throw WireError(.corruptCompression, "the compressed body ends before its stream does")
                case Z_MEM_ERROR:
                    throw WireError(.compressionFailed, "zlib ran out of memory while inflating")
                default:
                    throw WireError(.corruptCompression, "the compressed body is not a valid zlib stream")
                }
            }
        }
        let produced = Int(stream.total_out)
        guard produced <= inflatedBytesMax else {
            throw WireError(.inflatedTooLarge, "the body inflates past the \(inflatedBytesMax)-byte limit")
        }
        guard status == Z_STREAM_END else {
            throw WireError(.corruptCompression, "the compressed body ends before its stream does")
        }
        guard stream.avail_in == 0 else {
            throw WireError(.corruptCompression, "\(stream.avail_in) bytes follow the end of the compressed stream")
        }
        output.removeLast(output.count - produced)
        return output
    }
}
