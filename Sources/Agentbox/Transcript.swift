import AgentboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// asciinema's v2 `.cast` format, as bytes: a header line (a JSON object with `version` 2, the
/// terminal's `width` and `height`, `timestamp` and `env` with `TERM` and `SHELL`), then one JSON
/// array per event: `[seconds, "o", data]` for output and `[seconds, "r", "COLSxROWS"]` for a
/// resize. Pure functions, so the encoding is tested without a terminal.
public enum CastFormat {
    public static func header(width: Int, height: Int, timestamp: Int64, term: String?, shell: String?) -> [UInt8] {
        var line = Array(
            "{\"version\": 2, \"width\": \(width), \"height\": \(height), \"timestamp\": \(timestamp), \"env\": {".utf8)
        var first = true
        for (name, value) in [("TERM", term), ("SHELL", shell)] {
            guard let value else { continue }
            if !first { line += Array(", ".utf8) }
            first = false
            line += Array("\"\(name)\": \"".utf8)
            _ = appendJSONStringBody(Array(value.utf8)[...], into: &line, final: true)
            line.append(UInt8(ascii: "\""))
        }
        line += Array("}}\n".utf8)
        return line
    }

    /// `[time, "kind", "data"]\n`; returns how many bytes at the end of `data` were not encoded
    /// because they may be the start of a UTF-8 sequence completed by the next event (0 when
    /// `final`).
    public static func appendEvent(
        time: Double, kind: String, data: ArraySlice<UInt8>, into line: inout [UInt8],
        final: Bool = false
    ) -> Int {
        line.append(UInt8(ascii: "["))
        line += Array(formatTime(time).utf8)
        line += Array(", \"\(kind)\", \"".utf8)
        let held = appendJSONStringBody(data, into: &line, final: final)
        line += Array("\"]\n".utf8)
        return held
    }

    /// Seconds with six decimals, without Foundation.
    public static func formatTime(_ seconds: Double) -> String {
        let micros = Int64((max(0, seconds) * 1_000_000).rounded())
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    /// Appends `bytes` as the inside of a JSON string: valid UTF-8 as it is, `"` `\` and control
    /// bytes escaped, and each byte of an invalid sequence as U+FFFD, so the file is always valid
    /// JSON. An incomplete sequence at the very end is left out (its length is returned) unless
    /// `final`.
    public static func appendJSONStringBody(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8], final: Bool) -> Int {
        let hex = Array("0123456789abcdef".utf8)
        var index = bytes.startIndex
        let end = bytes.endIndex
        while index < end {
            let byte = bytes[index]
            if byte < 0x80 {
                switch byte {
                case UInt8(ascii: "\""): out += [0x5C, 0x22]
                case UInt8(ascii: "\\"): out += [0x5C, 0x5C]
                case 0x0A: out += [0x5C, UInt8(ascii: "n")]
                case 0x0D: out += [0x5C, UInt8(ascii: "r")]
                case 0x09: out += [0x5C, UInt8(ascii: "t")]
                case 0..<0x20, 0x7F:
                    out += [
                        0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)],
                        hex[Int(byte & 0xF)],
                    ]
                default: out.append(byte)
                }
                index += 1
                continue
            }
            let length = sequenceLength(bytes, at: index)
            switch length {
            case .valid(let count):
                out += bytes[index..<index + count]
                index += count
            case .incomplete where !final:
                return end - index
            case .invalid, .incomplete:
                out += [0xEF, 0xBF, 0xBD]
                index += 1
            }
        }
        return 0
    }

    enum Sequence { case valid(Int), incomplete, invalid }

    /// The UTF-8 sequence starting at `index` (whose byte is >= 0x80), per RFC 3629.
    static func sequenceLength(_ bytes: ArraySlice<UInt8>, at index: Int) -> Sequence {
        let lead = bytes[index]
        let count: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: count = 2
        case 0xE0:
            count = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 3
        case 0xED:
            count = 3
            high = 0x9F
        case 0xF0:
            count = 4
            low = 0x90
        case 0xF1...0xF3: count = 4
        case 0xF4:
            count = 4
            high = 0x8F
        default: return .invalid
        }
        for offset in 1..<count {
            guard index + offset < bytes.endIndex else { return .incomplete }
            let byte = bytes[index + offset]
            let (min, max) = offset == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
            if byte < min || byte > max { return .invalid }
        }
        return .valid(count)
    }
}

/// Writes one session's `.cast` file as output arrives (one `write` per event). Times are
/// measured from the writer's creation on the monotonic clock. Not thread-safe: one relay thread
/// owns it.
public final class TranscriptWriter {
    public let path: String
    private let descriptor: Int32
    private let start = MonotonicInstant.now
    /// Per source (stdout, stderr): bytes of an incomplete UTF-8 sequence waiting for the next event.
    private var pending: [Int: [UInt8]] = [:]
    private var line: [UInt8] = []
    /// The first write error; the relay keeps running without the transcript and reports it.
    public private(set) var failure: SystemError?

    /// Creates (or truncates) `path` with mode 0600, never following a symbolic link, and writes
    /// the header.
    public init(path: String, width: Int, height: Int, term: String?, shell: String?) throws(SystemError) {
        self.path = path
        descriptor = try valueOrErrno("open \(path)") {
            open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        try valueOrErrno("fchmod \(path)") { fchmod(descriptor, 0o600) }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        emit(CastFormat.header(width: width, height: height, timestamp: Int64(now.tv_sec), term: term, shell: shell))
        if let failure {
            close(descriptor)
            throw failure
        }
    }

    deinit { close(descriptor) }

    var elapsed: Double {
        let duration = MonotonicInstant.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// An output event with (already redacted) `bytes` from `source`.
    public func output(_ bytes: [UInt8], source: Int = 0) {
        guard !bytes.isEmpty else { return }
        var data = pending.removeValue(forKey: source) ?? []
        data += bytes
        line.removeAll(keepingCapacity: true)
        let held = CastFormat.appendEvent(time: elapsed, kind: "o", data: data[...], into: &line)
        if held > 0 { pending[source] = Array(data.suffix(held)) }
        if held < data.count { emit(line) }
    }

    /// A resize event.
    public func resize(columns: Int, rows: Int) {
        line.removeAll(keepingCapacity: true)
        _ = CastFormat.appendEvent(time: elapsed, kind: "r", data: Array("\(columns)x\(rows)".utf8)[...], into: &line)
        emit(line)
    }

    /// Writes what is pending (incomplete sequences as U+FFFD) and syncs the file.
    public func finish() {
        for source in pending.keys.sorted() {
            guard let data = pending.removeValue(forKey: source) else { continue }
            line.removeAll(keepingCapacity: true)
            _ = CastFormat.appendEvent(time: elapsed, kind: "o", data: data[...], into: &line, final: true)
            emit(line)
        }
        fsync(descriptor)
    }

    private func emit(_ bytes: [UInt8]) {
        guard failure == nil else { return }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = SystemError("write \(path)")
                return
            }
            offset += written
        }
    }
}
