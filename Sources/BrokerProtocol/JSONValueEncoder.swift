/// Turns an `Encodable` value into a `JSONValue`: the encoding half of `WireJSON`, written
/// against the standard library alone so that the remote binaries need no Foundation.
enum JSONValueEncoder {
    static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let root = EncodingNode()
        try NodeEncoder(node: root, codingPath: []).encodeValue(value)
        return root.value
    }
}

/// One value under construction. Containers hand out child nodes and fill them in later, so the
/// tree is built by reference and resolved into a `JSONValue` at the end.
final class EncodingNode {
    private var scalar: JSONValue?
    private var members: [String: EncodingNode]?
    private var elements: [EncodingNode]?

    /// A value whose `encode(to:)` wrote nothing is an empty object, as with Foundation.
    var value: JSONValue {
        if let members { return .object(members.mapValues(\.value)) }
        if let elements { return .array(elements.map(\.value)) }
        return scalar ?? .object([:])
    }

    func set(_ value: JSONValue) {
        scalar = value
        members = nil
        elements = nil
    }

    func becomeObject() {
        if members == nil { set(.null); members = [:] }
    }

    func becomeArray() {
        if elements == nil { set(.null); elements = [] }
    }

    func member(_ key: String) -> EncodingNode {
        let child = EncodingNode()
        members![key] = child
        return child
    }

    func appendElement() -> EncodingNode {
        let child = EncodingNode()
        elements!.append(child)
        return child
    }

    var elementCount: Int { elements?.count ?? 0 }
}

struct NodeEncoder: Encoder, SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.becomeObject()
        return KeyedEncodingContainer(KeyedNodeEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.becomeArray()
        return UnkeyedNodeEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    func encodeNil() throws { node.set(.null) }

    /// Witnesses every typed `encode(_:)` requirement as well as the generic one.
    func encode<T: Encodable>(_ value: T) throws { try encodeValue(value) }

    func encodeValue<T: Encodable>(_ value: T) throws {
        guard let scalar = value as? any JSONScalar else { return try value.encode(to: self) }
        guard let json = scalar.json else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "\(value) has no JSON form"))
        }
        node.set(json)
    }
}

struct KeyedNodeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.member(key.stringValue).set(.null) }

    /// Witnesses every typed `encode(_:forKey:)` requirement as well as the generic one.
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try child(key).encodeValue(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        child(key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        child(key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { child(JSONKey("super")) }

    mutating func superEncoder(forKey key: Key) -> any Encoder { child(key) }

    private func child(_ key: any CodingKey) -> NodeEncoder {
        NodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key])
    }
}

struct UnkeyedNodeEncoder: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int { node.elementCount }

    mutating func encodeNil() throws { node.appendElement().set(.null) }

    /// Witnesses every typed `encode(_:)` requirement as well as the generic one.
    mutating func encode<T: Encodable>(_ value: T) throws { try next().encodeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        next().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { next().unkeyedContainer() }

    mutating func superEncoder() -> any Encoder { next() }

    private func next() -> NodeEncoder {
        let key = JSONKey(index: count)
        return NodeEncoder(node: node.appendElement(), codingPath: codingPath + [key])
    }
}

/// A coding key made up by the containers themselves: array indices and `super`.
struct JSONKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(_ string: String) {
        stringValue = string
        intValue = nil
    }

    init(index: Int) {
        stringValue = "\(index)"
        intValue = index
    }

    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(index: intValue) }
}
