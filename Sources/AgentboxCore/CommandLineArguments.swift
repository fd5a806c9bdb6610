/// A usage error: what was wrong with the command line, and the usage line to show.
public struct UsageError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads options and operands from the front of an argument list.
///
/// Options are `--name value`, `--name=value` or flags; `--` ends options. Anything unknown is a
/// `UsageError`, never silently ignored.
public struct CommandLineArguments {
    public private(set) var remaining: [String]

    public init(_ arguments: [String]) {
        remaining = arguments
    }

    public var isEmpty: Bool { remaining.isEmpty }

    /// The next argument if it is not an option.
    public mutating func operand() -> String? {
        guard let first = remaining.first, !first.hasPrefix("-") || first == "-" else { return nil }
        remaining.removeFirst()
        return first
    }

    public mutating func requiredOperand(_ name: String) throws(UsageError) -> String {
        guard let value = operand() else { throw UsageError("missing \(name)") }
        return value
    }

    /// Removes `--name` anywhere before `--` and reports whether it was there.
    public mutating func flag(_ names: String...) -> Bool {
        let end = remaining.firstIndex(of: "--") ?? remaining.endIndex
        guard let index = remaining[..<end].firstIndex(where: { names.contains($0) }) else { return false }
        remaining.remove(at: index)
        return true
    }

    /// Removes `--name value` or `--name=value` anywhere before `--`.
    public mutating func option(_ names: String...) throws(UsageError) -> String? {
        let end = remaining.firstIndex(of: "--") ?? remaining.endIndex
        for index in remaining[..<end].indices {
            let argument = remaining[index]
            for name in names {
                if argument == name {
                    guard index + 1 < end else { throw UsageError("\(name) needs a value") }
                    let value = remaining[index + 1]
                    remaining.removeSubrange(index...(index + 1))
                    return value
                }
                if argument.hasPrefix(name + "=") {
                    remaining.remove(at: index)
                    return String(argument.dropFirst(name.count + 1))
                }
            }
        }
        return nil
    }

    /// Everything after `--` (which must be present and followed by at least one word).
    public mutating func command() throws(UsageError) -> [String] {
        guard let separator = remaining.firstIndex(of: "--") else { throw UsageError("missing -- before the command") }
        let command = Array(remaining[(separator + 1)...])
        remaining.removeSubrange(separator...)
        guard !command.isEmpty else { throw UsageError("missing command after --") }
        return command
    }

    /// Fails if anything is left over.
    public func finish() throws(UsageError) {
        if let first = remaining.first {
            throw UsageError(first.hasPrefix("-") ? "unknown option \(first)" : "unexpected argument \(first)")
        }
    }
}
