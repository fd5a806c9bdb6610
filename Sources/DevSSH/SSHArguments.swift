import AgentboxCore

/// An ssh command line split the way ssh(1) reads it: options, destination, remote command.
public struct SSHArguments: Equatable, Sendable {
    /// Options in their original order and spelling (`-p 2222`, `-oUser=x`, `-tt`).
    public var options: [String]
    public var destination: String
    public var remoteCommand: [String]

    /// ssh's options that take an argument (ssh(1), OpenSSH 9).
    static let optionsWithArgument: Set<Character> = [
        "B", "b", "c", "D", "E", "e", "F", "I", "i", "J", "L", "l", "m", "O", "o", "P", "p", "Q", "R", "S", "W", "w",
    ]
    static let flagOptions: Set<Character> = [
        "4", "6", "A", "a", "C", "f", "G", "g", "K", "k", "M", "N", "n", "q", "s", "T", "t", "V", "v", "X", "x", "Y", "y",
    ]
    /// Options that would break devssh's own use of ssh's connection sharing or background mode.
    static let refused: Set<Character> = ["O", "S", "M", "f", "N", "G", "W", "V", "Q"]

    public init(options: [String], destination: String, remoteCommand: [String]) {
        self.options = options
        self.destination = destination
        self.remoteCommand = remoteCommand
    }

    public static func parse(_ arguments: [String]) throws(UsageError) -> SSHArguments {
        var options: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                index += 1
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1 else { break }
            options.append(argument)
            var letters = Array(argument.dropFirst())
            while let letter = letters.first {
                letters.removeFirst()
                if refused.contains(letter) {
                    throw UsageError("devssh manages ssh's -\(letter) itself; it cannot be passed through")
                }
                if optionsWithArgument.contains(letter) {
                    if letters.isEmpty {
                        index += 1
                        guard index < arguments.count else { throw UsageError("ssh option -\(letter) needs a value") }
                        options.append(arguments[index])
                    }
                    break
                }
                guard flagOptions.contains(letter) else { throw UsageError("unknown ssh option -\(letter)") }
            }
            index += 1
        }
        guard index < arguments.count else { throw UsageError("missing HOST") }
        return SSHArguments(options: options, destination: arguments[index],
                            remoteCommand: Array(arguments[(index + 1)...]))
    }

    /// The host part of the destination as the developer typed it (`alex@box` → `box`,
    /// `ssh://alex@box:22` → `box`): the name the policy's allowedHosts matches.
    public var hostAlias: String {
        var rest = Substring(destination)
        if rest.hasPrefix("ssh://") {
            rest = rest.dropFirst(6)
            if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") { rest = rest[..<colon] }
        }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("["), rest.hasSuffix("]") { rest = rest.dropFirst().dropLast() }
        return String(rest)
    }

    /// Options that shape the interactive session rather than the connection.
    var sessionOptions: [String] {
        options.filter { option in
            guard option.hasPrefix("-"), option.count > 1 else { return false }
            return option.dropFirst().allSatisfy { "tTnqvxXaAkK46".contains($0) }
        }
    }
}
