/// The types a JSON scalar holds directly: booleans, strings and numbers. Containers ask a value
/// whether it is one of these before falling back to its own `Codable` conformance.
protocol JSONScalar {
    init?(json: JSONValue)
    var json: JSONValue? { get }
}

extension Bool: JSONScalar {
    init?(json: JSONValue) {
        guard case .bool(let flag) = json else { return nil }
        self = flag
    }
    var json: JSONValue? { .bool(self) }
}

extension String: JSONScalar {
    init?(json: JSONValue) {
        guard case .string(let string) = json else { return nil }
        self = string
    }
    var json: JSONValue? { .string(self) }
}

/// Integers accept only integer literals (no fraction, no exponent) that fit the type.
protocol JSONInteger: JSONScalar, FixedWidthInteger {}

extension JSONInteger {
    init?(json: JSONValue) {
        guard case .number(let literal) = json, let value = Self(literal, radix: 10) else { return nil }
        self = value
    }
    var json: JSONValue? { .number(String(self)) }
}

extension Int: JSONInteger {}
extension Int8: JSONInteger {}
extension Int16: JSONInteger {}
extension Int32: JSONInteger {}
extension Int64: JSONInteger {}
extension UInt: JSONInteger {}
extension UInt8: JSONInteger {}
extension UInt16: JSONInteger {}
extension UInt32: JSONInteger {}
extension UInt64: JSONInteger {}

/// Floating-point numbers: any JSON number that parses; NaN and infinities have no JSON form.
protocol JSONFloatingPoint: JSONScalar, BinaryFloatingPoint, LosslessStringConvertible {}

extension JSONFloatingPoint {
    init?(json: JSONValue) {
        guard case .number(let literal) = json, let value = Self(literal), value.isFinite else { return nil }
        self = value
    }
    var json: JSONValue? { isFinite ? .number(description) : nil }
}

extension Double: JSONFloatingPoint {}
extension Float: JSONFloatingPoint {}
