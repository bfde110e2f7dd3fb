/// A small, fast, seeded random number generator (SplitMix64, Steele, Lea and Flood 2014).
///
/// Every random choice in FieldSync's generators and simulations comes from a seeded generator
/// passed in as a parameter, so that a seed replays a run exactly. SplitMix64 passes BigCrush,
/// needs 8 bytes of state, and gives the same sequence on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator for a sub-stream, independent of this one's later output: used to give each
    /// simulated device its own stream, so that adding a device does not change the others.
    public mutating func split() -> SplitMix64 {
        SplitMix64(seed: next())
    }
}
