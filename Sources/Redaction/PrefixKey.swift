/// A hash of a byte string and its length that can be extended at the *front* in constant time:
/// the streaming redactor's hold-back test walks the end of its view backwards and asks, for each
/// start, whether the bytes from there to the end are the beginning of some pattern.
///
/// `sum` is the polynomial Σ (byte + 1) · P^(distance from the last byte); prepending a byte adds
/// one term. A collision only holds back a few bytes for longer than needed.
struct PrefixKey {
    private var sum: UInt64 = 0
    private var power: UInt64 = 1
    private var count: UInt64 = 0

    static let multiplier: UInt64 = 0x100_0000_01B3

    init() {}

    init<C: BidirectionalCollection>(_ bytes: C) where C.Element == UInt8 {
        for byte in bytes.reversed() { prepend(byte) }
    }

    @inline(__always)
    mutating func prepend(_ byte: UInt8) {
        sum = sum &+ (UInt64(byte) &+ 1) &* power
        power = power &* Self.multiplier
        count &+= 1
    }

    /// Never 0 (the empty slot of `Redactor.prefixSlots`); the high half picks the slot.
    var value: UInt64 {
        var mixed = sum ^ (count &* 0x9E37_79B9_7F4A_7C15)
        mixed ^= mixed &>> 31
        mixed = mixed &* 0xBF58_476D_1CE4_E5B9
        mixed ^= mixed &>> 29
        return mixed | 1
    }
}
