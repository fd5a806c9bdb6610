import Redaction
import Testing

/// Known credential formats are redacted even when nobody registered them, and look-alikes are not.
struct TokenFormatTests {
    static let tokens: [(String, String)] = [
        ("AKIAIOSFODNN7EXAMPLE", "aws-access-key-id"),
        ("ASIAY34FZKBOKMUTVV7A", "aws-access-key-id"),
        ("ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5", "github-token"),
        ("gho_16C7e42F292c6912E7710c838347Ae178B4a", "github-token"),
        ("ghs_16C7e42F292c6912E7710c838347Ae178B4a", "github-token"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "github-token"),
        ("sk-proj-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1De3Fg5Hi7", "openai-key"),
        ("sk-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1De3Fg5Hi7Jk9Mn1Pq", "openai-key"),
        ("sk-ant-api03-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1De3Fg5Hi7Jk9-AA", "anthropic-key"),
        ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack-token"),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe-key"),
        ("rk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe-key"),
        ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "stripe-key"),
        (
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
                + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "jwt"
        ),
    ]

    @Test(arguments: tokens)
    func redactsUnregisteredToken(_ token: String, _ label: String) {
        let redactor = Redactor(secrets: [])
        for (before, after) in [("token=", "\n"), ("\"", "\""), ("Bearer ", ""), ("", " done")] {
            let input = Array((before + token + after).utf8)
            let expected = before + "[REDACTED:\(label)]" + after
            #expect(Fixture.text(Fixture.redact(redactor, input)) == expected)
            #expect(Fixture.text(Fixture.oneByteWrites(redactor, input)) == expected)
        }
    }

    @Test func redactsTokenWithColourChangeInside() {
        let redactor = Redactor(secrets: [])
        let input = "key: \u{1B}[33mghp_aB3dE5gH7jK9mN1\u{1B}[0mpQ3sT5vW7yZ9bC1dE3fG5 ok"
        #expect(
            Fixture.text(Fixture.redact(redactor, Array(input.utf8)))
                == "key: \u{1B}[33m[REDACTED:github-token]\u{1B}[0m ok")
    }

    @Test func redactsPEMPrivateKeyBlock() {
        let redactor = Redactor(secrets: [])
        let pem = Fixture.pemKey(lines: 5, seed: 99).replacingOccurrences(of: "\n", with: "\r\n")
        let input = Array(("cat key.pem\r\n" + pem + "\r\n$ ").utf8)
        let expected = "cat key.pem\r\n[REDACTED:private-key]\r\n$ "
        #expect(Fixture.text(Fixture.redact(redactor, input)) == expected)
        #expect(Fixture.text(Fixture.redact(redactor, input, cuts: [40, 41, 200])) == expected)
    }

    @Test func redactsTruncatedPEMBlockToTheEnd() {
        let redactor = Redactor(secrets: [])
        let pem = Fixture.pemKey(lines: 3, seed: 5)
        let truncated = String(pem.prefix(120))
        #expect(Fixture.text(Fixture.redact(redactor, Array(("> " + truncated).utf8))) == "> [REDACTED:private-key]")
    }

    @Test(arguments: [
        "task-management-service-worker-pool",  // "sk-" inside a word
        "the sk-learn-compatibility-layer-is-here",  // no digits or capitals: not a random key
        "AKIA is a prefix, AKIASHORT too",
        "ghp_short",
        "eyJ alone, eyJhbGciOiJIUzI1NiJ9 without payload",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
        "MYAKIAIOSFODNN7EXAMPLE is glued to a word",
    ])
    func leavesLookAlikesAlone(_ text: String) {
        let redactor = Redactor(secrets: [])
        #expect(Fixture.text(Fixture.redact(redactor, Array(text.utf8))) == text)
    }

    @Test func tokenFormatsCanBeTurnedOff() {
        let redactor = Redactor(secrets: [], options: RedactionOptions(knownTokenFormats: false))
        let text = "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"
        #expect(Fixture.text(Fixture.redact(redactor, Array(text.utf8))) == text)
    }
}
