/// A position in a YAML source, 1-based.
public struct SourceMark: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (lhs: SourceMark, rhs: SourceMark) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// How a scalar was written. A quoted (or block) scalar is always a string; a plain one may be
/// meant as a number, a boolean or null, and the reader of the tree decides.
public enum ScalarStyle: Sendable, Hashable {
    case plain
    /// Single- or double-quoted, literal (`|`) or folded (`>`).
    case quoted
}

/// One entry of a mapping, in source order.
public struct YAMLPair: Sendable, Hashable {
    public let key: YAMLNode
    public let value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// A node of a YAML document, with where it starts in the source.
///
/// Mappings keep their entries in source order and keep duplicate keys, so that a reader can
/// report them instead of silently keeping one.
public struct YAMLNode: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case scalar(String, ScalarStyle)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public let kind: Kind
    public let mark: SourceMark

    public init(_ kind: Kind, mark: SourceMark) {
        self.kind = kind
        self.mark = mark
    }

    /// The text of a scalar node, nil for a sequence or mapping.
    public var scalarText: String? {
        if case .scalar(let text, _) = kind { return text }
        return nil
    }

    /// Whether this is a plain scalar YAML reads as null (`~`, `null`, or nothing at all).
    public var isNull: Bool {
        if case .scalar(let text, .plain) = kind {
            return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
        }
        return false
    }

    /// A short description of what the node is, for "expected X, got Y" messages.
    public var kindDescription: String {
        switch kind {
        case .scalar(_, .quoted): return "a string"
        case .scalar(let text, .plain):
            if isNull { return "nothing (null)" }
            if text == "true" || text == "false" { return "a boolean" }
            if text.allSatisfy({ $0.isASCII && $0.isNumber }) { return "a number" }
            return "a string"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}
