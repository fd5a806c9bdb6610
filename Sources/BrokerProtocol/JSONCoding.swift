/// JSON encoding and decoding used on both ends of the wire, with one set of options: compact,
/// keys sorted. Built on the standard library alone: `secrets` and `agentbox` start before every
/// command and session, and linking Foundation's JSON coders doubled their start-up time.
public enum WireJSON {
    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        // Encoding our own plain structs cannot fail; a failure is a programming error.
        try! JSONValueEncoder.encode(value).serialized
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(ProtocolError) -> T {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw .malformed("\(T.self): invalid JSON: \(error)")
        }
        do {
            return try NodeDecoder(value: value, codingPath: []).decode(type)
        } catch {
            throw .malformed("\(T.self): \(describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing field \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            return "\(context.debugDescription) at \(path(context.codingPath))"
        default: return "invalid message"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the top level" : keys.map(\.stringValue).joined(separator: ".")
    }
}

/// A message that does not follow the protocol.
public enum ProtocolError: Error, Equatable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let detail): return "malformed message: \(detail)"
        }
    }
}
