import AgentboxCore
import CAgentboxSys
import Redaction

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Replaces every echo of a credential in a byte stream, however the stream is split into
/// chunks: the raw value, its percent-encoded forms, its JSON string forms, and its base64 forms
/// (standard and URL alphabets, at each of the three alignments it can have inside a longer
/// encoded text).
///
/// Between chunks it holds back only a tail that could be the start of an echo (at most the
/// longest pattern's length minus one byte), so a value split across two writes is still
/// caught and everything else passes at once. The output is the same however the stream is
/// split. All forms are searched for in one pass (`PatternSet`); a chunk is copied once, into
/// the output, and only the held-back tail is kept (and zeroed when dropped).
public final class EchoScrubber {
    /// What an echo is replaced with.
    public static let replacement = Array("[REDACTED]".utf8)

    private let patterns: PatternSet?
    /// The bytes held back: a tail that could be the start of an echo (shorter than the longest pattern).
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
                // Percent-encoding as libraries differ on it: upper- or lowercase hex, and with
                // `/` left as it is (Python's quote(), most path encoders); JSON string escapes
                // (`\"`, `\\`, `\/`, `\u0026`, ...) as the redactor knows them.
                found.append(Self.percentEncoded(value))
                found.append(Self.percentEncoded(value, lowercase: true))
                found.append(Self.percentEncoded(value, keeping: [UInt8(ascii: "/")]))
                found.append(Self.percentEncoded(value, keeping: [UInt8(ascii: "/")], lowercase: true))
                found.append(contentsOf: SecretForms.jsonForms(of: value))
                for shift in 0..<3 { found.append(contentsOf: Self.base64Cores(value, shift: shift)) }
            }
        }
        var unique: [[UInt8]] = []
        for pattern in found where !pattern.isEmpty && !unique.contains(pattern) {
            unique.append(pattern)
        }
        // The pattern set holds the only copies left (its deinit zeroes them).
        patterns = unique.isEmpty ? nil : PatternSet(unique)
    }

    deinit {
        pending.withUnsafeMutableBytes { zeroBytes($0) }
    }

    /// Scrubs a chunk; returns what can be sent now.
    public func feed(_ chunk: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(chunk.count)
        feed(chunk) { out.append(contentsOf: $0) }
        return out
    }

    /// Scrubs a chunk and hands what can be sent now to `emit`, in order, as slices of `chunk`
    /// and replacements: the caller copies them where they go, with no copy in between.
    public func feed(_ chunk: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        guard let patterns else {
            emit(chunk)
            return
        }
        if pending.isEmpty {
            scrub(chunk, patterns, final: false, emit: emit)
            return
        }
        // A held-back tail (shorter than the longest pattern): scan it joined with the new bytes.
        var joined: [UInt8] = []
        joined.reserveCapacity(pending.count + chunk.count)
        joined.append(contentsOf: pending)
        joined.append(contentsOf: chunk)
        pending.withUnsafeMutableBytes { zeroBytes($0) }
        pending = []
        defer { joined.withUnsafeMutableBytes { zeroBytes($0) } }
        joined.withUnsafeBytes { scrub($0, patterns, final: false, emit: emit) }
    }

    public func feed(_ chunk: [UInt8]) -> [UInt8] { chunk.withUnsafeBytes { feed($0) } }

    /// Everything still held back, scrubbed; call at the end of the stream.
    public func finish() -> [UInt8] {
        guard let patterns, !pending.isEmpty else { return [] }
        var held: [UInt8] = []
        swap(&held, &pending)
        defer { held.withUnsafeMutableBytes { zeroBytes($0) } }
        var out: [UInt8] = []
        held.withUnsafeBytes { scrub($0, patterns, final: true) { out.append(contentsOf: $0) } }
        return out
    }

    /// Scrubs a whole value at once (header values).
    public func scrubAll(_ text: String) -> String {
        let scrubber = EchoScrubber(copying: self)
        var out = scrubber.feed(Array(text.utf8))
        out += scrubber.finish()
        return String(decoding: out, as: UTF8.self)
    }

    private init(copying other: EchoScrubber) {
        patterns = other.patterns
    }

    /// `buffer` with every echo replaced, up to where an echo could still be completed by bytes
    /// not yet seen (unless `final`); that tail is kept in `pending`. The decision at each byte
    /// depends only on bytes that are already there, so the output is the same however the stream
    /// is split into chunks.
    private func scrub(
        _ buffer: UnsafeRawBufferPointer, _ patterns: PatternSet, final: Bool, emit: (UnsafeRawBufferPointer) -> Void
    ) {
        let count = buffer.count
        var position = 0
        var limit = final ? count : patterns.firstPartialMatch(in: buffer, from: 0)
        while let (start, length) = patterns.firstMatch(in: buffer, from: position, startsBefore: limit) {
            if start > position { emit(UnsafeRawBufferPointer(rebasing: buffer[position..<start])) }
            Self.replacement.withUnsafeBytes { emit($0) }
            position = start + length
            if position > limit { limit = final ? count : patterns.firstPartialMatch(in: buffer, from: position) }
        }
        if position < limit {
            emit(UnsafeRawBufferPointer(rebasing: buffer[position..<limit]))
            position = limit
        }
        if position < count { pending = Array(UnsafeRawBufferPointer(rebasing: buffer[position..<count])) }
    }

    // MARK: - Encoded forms

    /// `value` percent-encoded: every byte but the unreserved ones (and `keeping`) as `%XX`.
    static func percentEncoded(_ value: [UInt8], keeping: Set<UInt8> = [], lowercase: Bool = false) -> [UInt8] {
        let hex = Array((lowercase ? "0123456789abcdef" : "0123456789ABCDEF").utf8)
        var out: [UInt8] = []
        for byte in value {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            case _ where keeping.contains(byte):
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
