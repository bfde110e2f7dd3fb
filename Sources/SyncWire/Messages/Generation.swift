/// Which life of the server's database an answer comes from.
///
/// The server's feed, its cursors and its record of acknowledged changes only ever grow while its
/// database lives. A restore from a backup, a point-in-time recovery or a failover to a replica
/// that missed the last transactions can take them back in time: cursors a device holds then point
/// past the feed, and changes the server acknowledged may be gone. The server names each such life
/// with a generation — a digest of the PostgreSQL cluster's system identifier, its timeline, the
/// database's oid and an epoch an operator can renew (`fieldsync-server admin new-generation`) —
/// and sends it in every register and pull answer. A device that meets a generation other than
/// the one it holds uploads again every change it has not seen answered in the new one, then
/// re-primes every bucket (`SyncProtocol/guarantees.md`, "Restores").
public struct Generation: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// Lower-case hexadecimal, 1 to ``lengthMax`` characters (the server sends 32).
    public let rawValue: String

    /// The longest generation a message may carry.
    public static let lengthMax = 64

    /// A generation from its text, or `nil` when it is not 1 to ``lengthMax`` lower-case hex digits.
    public init?(rawValue: String) {
        guard (1...Self.lengthMax).contains(rawValue.utf8.count),
              rawValue.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }) else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}

extension WireDecoder {
    /// Reads a ``Generation``: 1 to 64 lower-case hex digits (`malformed` otherwise).
    public mutating func generation(_ key: String) throws(WireError) -> Generation {
        guard let generation = Generation(rawValue: try string(key, maxBytes: Generation.lengthMax)) else {
            throw WireError(.malformed, "\(key) is 1 to \(Generation.lengthMax) lower-case hex digits")
        }
        return generation
    }
}
