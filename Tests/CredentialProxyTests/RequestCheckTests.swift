import AgentboxCore
import Testing

@testable import CredentialProxy

@Suite struct RequestCheckTests {
    @Test func parsesOriginFormTarget() throws {
        let target = try ProxyRequestCheck.parseTarget("/p/ls-1/OPENAI_API_KEY/chat/completions?stream=true&key=v")
        #expect(target == ProxyTarget(leaseId: "ls-1", secretName: "OPENAI_API_KEY", rest: "/chat/completions",
                                      query: "stream=true&key=v"))
        #expect(target.auditPath == "/chat/completions?stream=…&key=…")
        #expect(try ProxyRequestCheck.parseTarget("/p/ls-1/K").rest == "/")
    }

    @Test(arguments: ["http://169.254.169.254/latest/meta-data", "169.254.169.254:80", "*", "/p/ls/K/../../x",
                      "/p/ls/K/%2e%2e/admin", "/p/ls/K/a\\b", "/p/ls/K/a b", "/p/ls/K/a#frag", "/other/path", "/p/ls"])
    func proxyRefusesTargetsOutsideItsRoutes(_ target: String) {
        #expect(throws: ProxyRefusal.self) { try ProxyRequestCheck.parseTarget(target) }
    }

    @Test(arguments: ["evil\r\nAuthorization: Bearer x", "a\nb", "a\u{0}b"])
    func proxyRefusesControlCharactersInHeaders(_ value: String) {
        #expect(throws: ProxyRefusal.self) { try ProxyRequestCheck.checkHeaders([("Host", value)]) }
    }

    @Test func proxyIgnoresClientConnectionHeaderTrick() {
        let client: [(name: String, value: String)] = [
            ("Connection", "Authorization, X-Custom, keep-alive"), ("Authorization", "Bearer abx-placeholder"),
            ("X-Custom", "1"), ("Cookie", "a=b"), ("x-api-key", "k"), ("Api-Key", "k"), ("Proxy-Authorization", "p"),
            ("Host", "evil.example"), ("Content-Type", "application/json"), ("Accept-Encoding", "gzip"),
            ("OpenAI-Beta", "responses=v1"), ("Transfer-Encoding", "chunked"), ("TE", "trailers"), ("Upgrade", "h2c"),
        ]
        let sent = ProxyRequestCheck.upstreamHeaders(
            from: client, credentialHeaderName: "Authorization", credentialValue: "Bearer REAL")
        #expect(sent.map(\.name) == ["Content-Type", "OpenAI-Beta", "Authorization"])
        #expect(sent.last!.value == "Bearer REAL")
        #expect(sent.filter { $0.name.lowercased() == "authorization" }.count == 1)
    }

    @Test func injectedHeaderSurvivesBeingNamedInConnection() {
        let sent = ProxyRequestCheck.upstreamHeaders(
            from: [("Connection", "x-api-key")], credentialHeaderName: "x-api-key", credentialValue: "REAL")
        #expect(sent.count == 1 && sent[0] == ("x-api-key", "REAL"))
    }

    @Test func findsPlaceholderInTheUsualHeaders() {
        let tokens = ProxyRequestCheck.presentedTokens(
            [("authorization", "Bearer abx-1"), ("x-api-key", "abx-2"), ("X-Token", "tok abx-3 end")],
            headerName: "X-Token", template: "tok {secret} end")
        #expect(tokens == ["abx-1", "abx-2", "abx-3"])
    }

    @Test func classifiesAddresses() {
        for address: [UInt8] in [[127, 0, 0, 1], [10, 1, 2, 3], [169, 254, 169, 254], [172, 16, 0, 1], [192, 168, 1, 1],
                                 [0, 0, 0, 0], [100, 64, 0, 1], [224, 0, 0, 1]] {
            #expect(AddressClass.isNonPublicIPv4(address), "\(address)")
        }
        #expect(!AddressClass.isNonPublicIPv4([104, 18, 6, 192]))
        var mapped = [UInt8](repeating: 0, count: 16)
        mapped[10] = 0xFF; mapped[11] = 0xFF; mapped[12] = 169; mapped[13] = 254; mapped[14] = 169; mapped[15] = 254
        #expect(AddressClass.isNonPublicIPv6(mapped))
        var loopback = [UInt8](repeating: 0, count: 16)
        loopback[15] = 1
        #expect(AddressClass.isNonPublicIPv6(loopback))
        #expect(AddressClass.isNonPublicIPv6([0xFE, 0x80] + [UInt8](repeating: 0, count: 14)))
        #expect(AddressClass.isNonPublicIPv6([0xFD, 0x00] + [UInt8](repeating: 0, count: 14)))
        #expect(!AddressClass.isNonPublicIPv6([0x26, 0x06, 0x47, 0x00] + [UInt8](repeating: 1, count: 12)))
    }
}

@Suite struct EchoScrubberTests {
    static let secret = "sk-test-0123456789abcdef/+=xyz"

    func scrub(_ text: String, splitEvery size: Int) -> String {
        let scrubber = EchoScrubber(secret: SecretBytes(Array(Self.secret.utf8)))
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            out += scrubber.feed(Array(bytes[index..<min(bytes.count, index + size)]))
            index += size
        }
        out += scrubber.finish()
        return String(decoding: out, as: UTF8.self)
    }

    @Test func redactsSecretSplitAcrossWrites() {
        let text = "a" + Self.secret + "b" + Self.secret + Self.secret + "tail"
        let whole = scrub(text, splitEvery: 1 << 20)
        #expect(whole == "a[REDACTED]b[REDACTED][REDACTED]tail")
        for size in 1...40 { #expect(scrub(text, splitEvery: size) == whole, "split \(size)") }
    }

    @Test func redactsEncodedEchoes() {
        let raw = Array(Self.secret.utf8)
        for prefix in ["", "u", "us", "user:"] {
            let encoded = EchoScrubber.base64(Array(prefix.utf8) + raw)
            #expect(!scrub("Basic " + encoded, splitEvery: 7).contains(String(encoded.dropFirst(prefix.count + 2).prefix(20))))
        }
        let percent = String(decoding: EchoScrubber.percentEncoded(raw), as: UTF8.self)
        #expect(scrub("q=" + percent, splitEvery: 3) == "q=[REDACTED]")
    }

    /// A key with reserved characters (AWS-style), encoded as libraries differ: lowercase hex,
    /// `/` left as it is (Python's quote()), JSON's `\/`.
    @Test(arguments: [
        "a%2fb%2bc%3dd-0123456789", "a/b%2Bc%3Dd-0123456789", "a/b%2bc%3dd-0123456789", "a\\/b+c=d-0123456789",
    ])
    func redactsEncodingVariantsOfAKeyWithReservedCharacters(_ encoded: String) {
        let scrubber = EchoScrubber(secret: SecretBytes(Array("a/b+c=d-0123456789".utf8)))
        var out = scrubber.feed(Array(("x=" + encoded + "&").utf8))
        out += scrubber.finish()
        #expect(String(decoding: out, as: UTF8.self) == "x=[REDACTED]&")
    }

    @Test func leavesOtherTextAlone() {
        let text = String(repeating: "data: {\"x\": 1}\n\n", count: 100)
        #expect(scrub(text, splitEvery: 13) == text)
    }
}
