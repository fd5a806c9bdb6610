import AgentboxCore

/// A parsed JSON document. Numbers keep their literal text so that integers of any width decode
/// exactly (a 64-bit expiry time never passes through a Double).
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// What a message names when this value is not what was expected.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Compact JSON text, object keys sorted so that equal values give equal bytes.
    public var serialized: [UInt8] {
        var text = ""
        write(into: &text)
        return Array(text.utf8)
    }

    private func write(into text: inout String) {
        switch self {
        case .null: text += "null"
        case .bool(let flag): text += flag ? "true" : "false"
        case .number(let literal): text += literal
        case .string(let string): text += JSONString.quote(string)
        case .array(let elements):
            text += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { text += "," }
                element.write(into: &text)
            }
            text += "]"
        case .object(let members):
            text += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                text += JSONString.quote(key)
                text += ":"
                members[key]!.write(into: &text)
            }
            text += "}"
        }
    }
}
