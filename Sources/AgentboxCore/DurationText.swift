/// Why a duration text such as `1h30m` was refused.
public enum DurationTextError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case negative
    case zero
    /// A unit letter with no number before it, or text that is not a number and unit.
    case missingNumber(String)
    /// A number with no unit after it (`30`): seconds or minutes would be a guess.
    case missingUnit(String)
    case unknownUnit(String)
    /// Units repeated or out of order (`30m1h`, `1h1h`).
    case unitOutOfOrder(String)
    case overflow(String)

    public var description: String {
        switch self {
        case .empty: return "empty duration; write e.g. 30m, 4h or 1h30m"
        case .negative: return "a duration cannot be negative"
        case .zero: return "a duration must be longer than zero"
        case .missingNumber(let text): return "'\(text)' is not a duration; write e.g. 30m, 4h or 1h30m"
        case .missingUnit(let text): return "'\(text)' has no unit; add s, m, h or d (e.g. \(text)m)"
        case .unknownUnit(let unit): return "unknown duration unit '\(unit)'; use s, m, h or d"
        case .unitOutOfOrder(let text): return "'\(text)': give each unit once, largest first (e.g. 1d2h30m)"
        case .overflow(let text): return "'\(text)' is too long a duration"
        }
    }
}

/// Durations as people write them in policy and request files: `30s`, `5m`, `4h`, `2d`, `1h30m`.
public enum DurationText {
    private static let units: [(letter: UInt8, seconds: Int64)] = [
        (UInt8(ascii: "d"), 86_400), (UInt8(ascii: "h"), 3_600), (UInt8(ascii: "m"), 60), (UInt8(ascii: "s"), 1),
    ]

    /// Parses a positive duration made of `<digits><unit>` parts, units `d`, `h`, `m`, `s`, each
    /// at most once and largest first. No spaces, signs, fractions or bare numbers.
    public static func parse(_ text: String) throws(DurationTextError) -> Duration {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { throw .empty }
        if bytes[0] == UInt8(ascii: "-") { throw .negative }
        var total: Int64 = 0
        var index = 0
        var lastUnitRank = -1
        while index < bytes.count {
            var number: Int64 = 0
            let numberStart = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                let (times, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (plus, overflow2) = times.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                if overflow1 || overflow2 { throw .overflow(text) }
                number = plus
                index += 1
            }
            if index == numberStart { throw .missingNumber(text) }
            guard index < bytes.count else { throw .missingUnit(text) }
            let unit = unitName(bytes, from: index)
            if unit.isEmpty { throw .missingNumber(text) }
            guard unit.count == 1, let rank = units.firstIndex(where: { $0.letter == unit[0] }) else {
                throw .unknownUnit(String(decoding: unit, as: UTF8.self))
            }
            if rank <= lastUnitRank { throw .unitOutOfOrder(text) }
            lastUnitRank = rank
            index += 1
            let (seconds, overflow1) = number.multipliedReportingOverflow(by: units[rank].seconds)
            let (sum, overflow2) = total.addingReportingOverflow(seconds)
            if overflow1 || overflow2 { throw .overflow(text) }
            total = sum
        }
        if total == 0 { throw .zero }
        return .seconds(total)
    }

    /// Formats whole seconds the way `parse` reads them: `1h30m`, `2d`, `45s`; `0s` for zero.
    /// Fractions of a second are dropped.
    public static func format(_ duration: Duration) -> String {
        var seconds = duration.components.seconds
        if seconds == 0 { return "0s" }
        var out = ""
        if seconds < 0 {
            out = "-"
            seconds = seconds == Int64.min ? Int64.max : -seconds
        }
        for unit in units {
            let count = seconds / unit.seconds
            if count > 0 {
                out += String(count) + String(UnicodeScalar(unit.letter))
                seconds -= count * unit.seconds
            }
        }
        return out
    }

    /// The run of ASCII letters starting at `index`.
    private static func unitName(_ bytes: [UInt8], from index: Int) -> [UInt8] {
        var end = index
        while end < bytes.count, (bytes[end] | 0x20) >= UInt8(ascii: "a"), (bytes[end] | 0x20) <= UInt8(ascii: "z") {
            end += 1
        }
        return Array(bytes[index..<end])
    }
}
