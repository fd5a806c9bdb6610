import BrokerProtocol
import Testing

@testable import SecretsRun

@Suite struct ExecEnvironmentTests {
    private func entry(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func grant(_ entries: [(String, [UInt8])]) -> LeaseGrant {
        LeaseGrant(
            leaseId: "ls-1", profile: "p", expiresAt: 0, ttlSeconds: 60, renewable: true,
            environment: entries.map { name, value in
                EnvironmentEntry(name: name, valueBase64: value.withUnsafeBytes { Base64.encode($0) })
            }, proxies: [], onDisconnect: "continue")
    }

    @Test func grantedNameReplacesEveryInheritedDuplicate() {
        let built = ExecEnvironment.build(
            inherited: [entry("PATH=/bin"), entry("TOKEN=old"), entry("TOKEN=older"), entry("HOME=/h")],
            granted: [EnvironmentVariable(name: "TOKEN", value: Array("new".utf8))], pristine: false)
        #expect(built.filter { $0.name == "TOKEN" }.map(\.value) == [Array("new".utf8)])
        #expect(built.map(\.name) == ["PATH", "HOME", "TOKEN"])
    }

    @Test func sessionNonceAndSocketNeverReachTheCommand() {
        let built = ExecEnvironment.build(
            inherited: [entry("AGENTBOX_SESSION_NONCE=abc"), entry("SECRETS_SOCKET=/run/x"), entry("A=1")],
            granted: [], pristine: false)
        #expect(built.map(\.name) == ["A"])
    }

    @Test func pristineKeepsOnlyTheMinimalBase() {
        let built = ExecEnvironment.build(
            inherited: [entry("PATH=/bin"), entry("AWS_SECRET_ACCESS_KEY=leak"), entry("LC_ALL=C"), entry("HOME=/h")],
            granted: [EnvironmentVariable(name: "DB", value: Array("x".utf8))], pristine: true)
        #expect(built.map(\.name) == ["PATH", "LC_ALL", "HOME", "DB"])
    }

    @Test func inheritedDuplicatesKeepTheFirstLikeGetenv() {
        let built = ExecEnvironment.build(inherited: [entry("A=1"), entry("A=2"), entry("garbage")], granted: [],
                                          pristine: false)
        #expect(built == [EnvironmentVariable(name: "A", value: Array("1".utf8))])
    }

    @Test func valuesDecodeByteExact() throws {
        let value: [UInt8] = Array("line1\nk=v \"q\" '$HOME' `x` \u{00fc}\u{20ac}\t".utf8) + [0xff, 0x01]
        let decoded = try ExecEnvironment.granted(from: grant([("V", value)]))
        #expect(decoded == [EnvironmentVariable(name: "V", value: value)])
    }

    @Test func brokerAnswerWithNulInAValueIsRefused() {
        #expect(throws: SecretsError.self) { try ExecEnvironment.granted(from: grant([("V", [0x61, 0, 0x62])])) }
    }

    @Test(arguments: ["", "1ABC", "A-B", "A=B", "PATH\n", "A B"])
    func brokerAnswerWithAnInvalidNameIsRefused(name: String) {
        #expect(throws: SecretsError.self) { try ExecEnvironment.granted(from: grant([(name, Array("x".utf8))])) }
    }

    @Test func brokerAnswerNamingAVariableTwiceIsRefused() {
        #expect(throws: SecretsError.self) {
            try ExecEnvironment.granted(from: grant([("A", Array("1".utf8)), ("A", Array("2".utf8))]))
        }
    }

    @Test func base64RoundTripsEveryByte() {
        for length in 0..<64 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + length) & 0xff) }
            let encoded = bytes.withUnsafeBytes { Base64.encode($0) }
            #expect(Base64.decode(encoded) == bytes)
        }
        #expect(Base64.decode("a===") == nil)
        #expect(Base64.decode("ab=c") == nil)
        #expect(Base64.decode("abc") == nil)
    }
}
