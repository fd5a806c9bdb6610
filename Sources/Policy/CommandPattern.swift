import AgentboxCore

/// An `allowedCommands` entry, matched token by token against argv.
///
/// The entry is split into tokens on spaces and tabs; double or single quotes group a token
/// that contains spaces (`"my tool" --flag`) and may sit inside a token (`--name="a b"`);
/// there are no escapes. Each token is a glob over one whole argument (`*` any run, `?` one
/// character, across `/` too). argv[0] is compared as typed (`./gradlew`, not a resolved path).
///
/// argv must have exactly as many arguments as the pattern has tokens, with one exception: a
/// last token that is a bare, unquoted `*` matches one or more remaining arguments. So
/// `codex *` covers `codex exec "hi"` but not bare `codex`, and `npm test` does not cover
/// `npm test --watch`.
public struct CommandPattern: Sendable, CustomStringConvertible {
    /// The entry as written.
    public let text: String
    /// One glob per token.
    public let tokens: [GlobPattern]
    /// Whether the last token is a bare `*` that matches the rest of argv.
    public let matchesRest: Bool

    /// Why an entry was refused.
    public enum ParseError: Error, Equatable, Sendable {
        case empty
        case unterminatedQuote(Character)
        case controlCharacter
    }

    public static func parse(_ text: String) throws(ParseError) -> CommandPattern {
        if text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            throw .controlCharacter
        }
        var tokens: [(text: String, quoted: Bool)] = []
        var current = ""
        var inToken = false
        var quoted = false
        var quote: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inToken = true
                quoted = true
            } else if character == " " || character == "\t" {
                if inToken { tokens.append((current, quoted)) }
                current = ""
                inToken = false
                quoted = false
            } else {
                current.append(character)
                inToken = true
            }
        }
        if let open = quote { throw .unterminatedQuote(open) }
        if inToken { tokens.append((current, quoted)) }
        if tokens.isEmpty { throw .empty }
        let last = tokens[tokens.count - 1]
        return CommandPattern(
            text: text, tokens: tokens.map { GlobPattern.single($0.text) },
            matchesRest: last.text == "*" && !last.quoted)
    }

    /// Whether argv is covered by this pattern.
    public func matches(_ argv: [String]) -> Bool {
        if matchesRest {
            guard argv.count >= tokens.count else { return false }
        } else {
            guard argv.count == tokens.count else { return false }
        }
        for (token, argument) in zip(tokens, argv) where !token.matches(argument) {
            return false
        }
        return true
    }

    public var description: String { text }
}
