import AgentboxCore
import Testing

@testable import CredentialProxy

/// Encodings of the key an upstream may echo it in.
@Suite struct EchoScrubberAttackTests {
    func scrubbed(_ key: String, _ text: String) -> String {
        let scrubber = EchoScrubber(secret: SecretBytes(Array(key.utf8)))
        return String(decoding: scrubber.feed(Array(text.utf8)) + scrubber.finish(), as: UTF8.self)
    }

    /// A key holding `"` or `\` (passwords and tokens used as proxy secrets may) comes back from
    /// any JSON encoder as `\"` / `\\`, and Go's (HTML-safe) encoder writes `<`, `>`, `&` as
    /// `\u003c`, `\u003e`, `\u0026`: each such form is replaced like the raw key.
    @Test(arguments: [
        ("tok\"en-0123456789abcdef", "{\"auth\":\"Bearer tok\\\"en-0123456789abcdef\"}"),
        ("tok\\en-0123456789abcdef", "{\"auth\":\"Bearer tok\\\\en-0123456789abcdef\"}"),
        ("tok&en-0123456789abcdef", "{\"auth\":\"Bearer tok\\u0026en-0123456789abcdef\"}"),
    ])
    func jsonEscapedKeyIsReplaced(_ key: String, _ echo: String) {
        let out = scrubbed(key, echo)
        #expect(out.contains("[REDACTED]"), "passed unscrubbed: \(out)")
    }
}
