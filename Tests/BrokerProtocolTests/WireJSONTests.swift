import Testing

@testable import BrokerProtocol

@Suite struct WireJSONTests {
    static let grant = LeaseGrant(
        leaseId: "l-1", profile: "github-agent", expiresAt: 1_796_000_000, ttlSeconds: 3600, renewable: false,
        environment: [EnvironmentEntry(name: "TOKEN", valueBase64: "c2VjcmV0"), EnvironmentEntry(name: "B", valueBase64: "")],
        proxies: [ProxyEndpoint(secretName: "OPENAI", baseURLEnvironmentName: "OPENAI_BASE_URL", pathPrefix: "/p/x/")],
        onDisconnect: "kill", proxySocket: "/run/user/1000/p.sock")

    @Test func compactOutputWithSortedKeysAndAbsentOptionalsOmitted() {
        let ending = LeaseEnding(reason: "exit", exitStatus: 3)
        #expect(String(decoding: WireJSON.encode(ending), as: UTF8.self) == #"{"exitStatus":3,"reason":"exit"}"#)
        let status = LeaseStatus(leaseId: "a/b", state: .revoked, expiresAt: -1)
        #expect(String(decoding: WireJSON.encode(status), as: UTF8.self) == #"{"expiresAt":-1,"leaseId":"a/b","state":"revoked"}"#)
    }

    @Test func everyMessageSurvivesARoundTrip() throws {
        var grant = Self.grant
        #expect(try WireJSON.decode(LeaseGrant.self, from: WireJSON.encode(grant)) == grant)
        grant.network = "proxy-only"
        grant.runAs = "agent"
        grant.proxySocket = nil
        #expect(try WireJSON.decode(LeaseGrant.self, from: WireJSON.encode(grant)) == grant)
        var request = LeaseRequest(profile: "p", cwd: "/w", argv: ["codex", "exec", ""], requestedNames: [], remoteUser: "u", agent: true)
        request.requestedTTLSeconds = Int64.max
        #expect(try WireJSON.decode(LeaseRequest.self, from: WireJSON.encode(request)) == request)
        let ending = LeaseEnding(reason: "signal", exitStatus: Int32.min, scrubFindings: 0)
        #expect(try WireJSON.decode(LeaseEnding.self, from: WireJSON.encode(ending)) == ending)
        let decision = ApprovalDecision(choice: .fourHours)
        #expect(String(decoding: WireJSON.encode(decision), as: UTF8.self) == #"{"choice":"4h"}"#)
        #expect(try WireJSON.decode(ApprovalDecision.self, from: WireJSON.encode(decision)) == decision)
    }

    @Test func readsWhitespaceEscapesAndAnyKeyOrder() throws {
        let text = " {\n\t\"reason\" : \"a\\\"b\\\\c\\/d\\n\\u00fc\\ud83d\\ude00\" ,\r\n \"exitStatus\" : null } "
        let ending = try WireJSON.decode(LeaseEnding.self, from: Array(text.utf8))
        #expect(ending == LeaseEnding(reason: "a\"b\\c/d\nü😀", exitStatus: nil))
    }

    @Test func unknownFieldsAreIgnored() throws {
        let text = #"{"code":"denied","message":"m","extra":{"deep":[1,2,{"x":null}]}}"#
        #expect(try WireJSON.decode(ErrorBody.self, from: Array(text.utf8)) == ErrorBody(code: "denied", message: "m"))
    }

    @Test(arguments: [
        (#"{"code":"a","message":"b","code":"c"}"#, "field code appears twice"),
        (#"{"code":"a","message":"b"} x"#, "unexpected bytes after the value"),
        (#"{"code":"a","message":"b""#, "expected ',' or '}'"),
        (#"{"code":"\ud800","message":"b"}"#, "lone surrogate"),
        (#"{"code":"\udc00x","message":"b"}"#, "lone surrogate"),
        ("{\"code\":\"a\u{09}b\",\"message\":\"b\"}", "control character"),
        (#"{"code":"\x","message":"b"}"#, "unknown escape"),
        (#"{"code":'a',"message":"b"}"#, "unexpected character"),
        (#"{"code":"a","message":"b",}"#, "expected a field name"),
        (#"[1,]"#, "unexpected character"),
        ("", "unexpected end of input"),
        ("nul", "unexpected word"),
    ])
    func refusesTextThatIsNotStrictJSON(text: String, reason: String) {
        #expect(throws: ProtocolError.self) { try WireJSON.decode(ErrorBody.self, from: Array(text.utf8)) }
        let error = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(text.utf8)) }
        #expect(error?.reason.contains(reason) == true, "\(text): \(String(describing: error))")
    }

    @Test func refusesInvalidUTF8() {
        var bytes = Array(#"{"code":"a"#.utf8)
        bytes += [0xC3, 0x28]
        bytes += Array(#"","message":"b"}"#.utf8)
        #expect(throws: JSONSyntaxError(offset: 13, reason: "string is not valid UTF-8")) { try JSONParser.parse(bytes) }
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        _ = try JSONParser.parse(Array(deep.utf8))
        let deeper = "[" + deep + "]"
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(deeper.utf8)) }
        let hostile = String(repeating: "[", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(hostile.utf8)) }
    }

    @Test(arguments: ["01", "1.", ".5", "+1", "1e", "1e+", "-", "--1", "0x10", "1.5.2"])
    func refusesMalformedNumbers(literal: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array("[\(literal)]".utf8)) }
    }

    @Test(arguments: [
        ("9223372036854775808", "a number"), ("-9223372036854775809", "a number"), ("1.5", "a number"),
        ("1e3", "a number"), ("\"1\"", "a string"), ("true", "a boolean"),
    ])
    func integersMustBeExactAndInRange(literal: String, kind: String) {
        let text = #"{"leaseId":"l","state":"active","expiresAt":\#(literal)}"#
        #expect(throws: ProtocolError.malformed("LeaseStatus: expected Int64, found \(kind) at expiresAt")) {
            try WireJSON.decode(LeaseStatus.self, from: Array(text.utf8))
        }
    }

    @Test func integerExtremesAreExact() throws {
        for value in [Int64.min, Int64.max, 0, -1, 9_007_199_254_740_993] {
            let status = LeaseStatus(leaseId: "l", state: .active, expiresAt: value)
            #expect(try WireJSON.decode(LeaseStatus.self, from: WireJSON.encode(status)).expiresAt == value)
        }
    }

    @Test func errorsNameTheField() {
        let missing = #"{"leaseId":"l","profile":"p","expiresAt":1,"ttlSeconds":1,"renewable":true,"proxies":[],"onDisconnect":"kill","environment":[{"name":"A"}]}"#
        #expect(throws: ProtocolError.malformed("LeaseGrant: missing field environment.0.valueBase64")) {
            try WireJSON.decode(LeaseGrant.self, from: Array(missing.utf8))
        }
        let null = #"{"leaseId":null,"state":"active","expiresAt":1}"#
        #expect(throws: ProtocolError.malformed("LeaseStatus: found null at leaseId")) {
            try WireJSON.decode(LeaseStatus.self, from: Array(null.utf8))
        }
        let badEnum = #"{"leaseId":"l","state":"paused","expiresAt":1}"#
        #expect(throws: ProtocolError.self) { try WireJSON.decode(LeaseStatus.self, from: Array(badEnum.utf8)) }
        let notObject = #"["leaseId"]"#
        #expect(throws: ProtocolError.malformed("LeaseStatus: expected an object, found an array at the top level")) {
            try WireJSON.decode(LeaseStatus.self, from: Array(notObject.utf8))
        }
    }

    @Test func nonFiniteNumbersHaveNoJSONForm() throws {
        #expect(throws: EncodingError.self) { try JSONValueEncoder.encode([1.0, Double.nan]) }
        #expect(throws: EncodingError.self) { try JSONValueEncoder.encode([Float.infinity]) }
        #expect(try JSONValueEncoder.encode([0.5, -2.0]).serialized == Array("[0.5,-2.0]".utf8))
    }
}
