import AgentboxCore
import CAgentboxSys

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Replaces every echo of a credential in a byte stream, however the stream is split into
/// chunks: the raw value, its percent-encoded form, and its base64 forms (standard and URL
/// alphabets, at each of the three alignments it can have inside a longer encoded text).
///
/// Between chunks it holds back only a tail that could be the start of an echo (at most the
/// longest pattern's length minus one byte), so a value split across two writes is still
/// caught and everything else passes at once.
public final class EchoScrubber {
    /// What an echo is replaced with.
    public static let replacement = Array("[REDACTED]".utf8)

    private let patterns: [[UInt8]]
    private let longest: Int
    private var pending: [UInt8] = []

    /// Patterns shorter than this are only matched raw (encoded forms of very short values
    /// would match ordinary text).
    static let minimumEncodedLength = 8

    public init(secret: SecretBytes) {
        var found: [[UInt8]] = []
        secret.withUnsafeBytes { raw in
            let value = Array(raw)
            guard !value.isEmpty else { return }
            found.append(value)
            if value.count >= Self.minimumEncodedLength {
                found.append(Self.percentEncoded(value))
                for shift in 0..<3 { found.append(contentsOf: Self.base64Cores(value, shift: shift)) }
            }
        }
        var unique: [[UInt8]] = []
        for pattern in found where !pattern.isEmpty && !unique.contains(pattern) {
            unique.append(pattern)
        }
        patterns = unique
        longest = unique.map(\.count).max() ?? 0
    }

    deinit {
        for index in patterns.indices {
            var pattern = patterns[index]
            pattern.withUnsafeMutableBytes { zeroBytes($0) }
        }
        pending.withUnsafeMutableBytes { zeroBytes($0) }
    }

    /// Scrubs a chunk; returns what can be sent now.
    public func feed(_ chunk: UnsafeRawBufferPointer) -> [UInt8] {
        guard longest > 0 else { return Array(chunk) }
        pending.append(contentsOf: chunk)
        return drain(final: false)
    }

    public func feed(_ chunk: [UInt8]) -> [UInt8] { chunk.withUnsafeBytes { feed($0) } }

    /// Everything still held back, scrubbed; call at the end of the stream.
    public func finish() -> [UInt8] { drain(final: true) }

    /// Scrubs a whole value at once (header values).
    public func scrubAll(_ text: String) -> String {
        let scrubber = EchoScrubber(copying: self)
        var out = scrubber.feed(Array(text.utf8))
        out += scrubber.finish()
        return String(decoding: out, as: UTF8.self)
    }

    private init(copying other: EchoScrubber) {
        patterns = other.patterns
        longest = other.longest
    }

    private func drain(final: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(pending.count + 16)
        var position = 0
        pending.withUnsafeBytes { buffer in
            while position < buffer.count, let (start, length) = earliestMatch(buffer, from: position) {
                out.append(contentsOf: buffer[position..<start])
                out.append(contentsOf: Self.replacement)
                position = start + length
            }
        }
        let keep = final ? 0 : partialMatchLength(from: position)
        let cut = pending.count - keep
        out.append(contentsOf: pending[position..<cut])
        pending.withUnsafeMutableBytes { zeroBytes(UnsafeMutableRawBufferPointer(rebasing: $0[0..<cut])) }
        pending.removeFirst(cut)
        return out
    }

    /// The longest tail of `pending` (after `position`) that is the start of some pattern: only
    /// those bytes are held back, so a stream with no partial echo passes with no delay at all.
    private func partialMatchLength(from position: Int) -> Int {
        let available = pending.count - position
        var keep = 0
        for pattern in patterns {
            var length = min(pattern.count - 1, available)
            while length > keep {
                let start = pending.count - length
                if pending[start] == pattern[0] && pending[start..<pending.count].elementsEqual(pattern[0..<length]) {
                    keep = length
                    break
                }
                length -= 1
            }
        }
        return keep
    }

    private func earliestMatch(_ buffer: UnsafeRawBufferPointer, from position: Int) -> (Int, Int)? {
        var best: (Int, Int)?
        let base = buffer.baseAddress! + position
        let count = buffer.count - position
        for pattern in patterns where pattern.count <= count {
            let found = pattern.withUnsafeBytes { needle in
                ab_memmem(base, count, needle.baseAddress, needle.count)
            }
            guard let found else { continue }
            let start = UnsafeRawPointer(found) - UnsafeRawPointer(buffer.baseAddress!)
            if best == nil || start < best!.0 || (start == best!.0 && pattern.count > best!.1) {
                best = (start, pattern.count)
            }
        }
        return best
    }

    // MARK: - Encoded forms

    static func percentEncoded(_ value: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in value {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return out
    }

    /// The base64 characters that encode `value` whatever precedes it, when it starts `shift`
    /// bytes into a 3-byte group: characters touched by neighbouring bytes are dropped.
    static func base64Cores(_ value: [UInt8], shift: Int) -> [[UInt8]] {
        let padded = [UInt8](repeating: 0, count: shift) + value
        let standard = Array(base64(padded).utf8)
        // Characters fully determined by value's bytes: from ceil(shift*8/6) to floor((shift+count)*8/6).
        let first = (shift * 8 + 5) / 6
        let last = ((shift + value.count) * 8) / 6
        guard last > first, last <= standard.count else { return [] }
        let core = Array(standard[first..<last])
        let url = core.map { byte -> UInt8 in
            byte == UInt8(ascii: "+") ? UInt8(ascii: "-") : byte == UInt8(ascii: "/") ? UInt8(ascii: "_") : byte
        }
        return url == core ? [core] : [core, url]
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [
                alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)],
                alphabet[Int(n & 63)],
            ]
            index += 3
        }
        let left = bytes.count - index
        if left == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if left == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [
                alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "="),
            ]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

func zeroBytes(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    ab_secure_zero(base, buffer.count)
}
