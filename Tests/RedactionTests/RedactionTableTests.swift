import Foundation
import Redaction
import Testing

/// The fixed cases of issue 5: each input must come out with the secret gone and the rest intact,
/// whether it is written at once, one byte at a time, or split anywhere in two.
struct RedactionTableTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let secrets: [(String?, String)]
        let tokens: Bool
        let input: [UInt8]
        let expected: [UInt8]
        var testDescription: String { name }

        init(_ name: String, secrets: [(String?, String)], tokens: Bool = false, input: [UInt8], expected: [UInt8]) {
            self.name = name
            self.secrets = secrets
            self.tokens = tokens
            self.input = input
            self.expected = expected
        }

        init(_ name: String, secrets: [(String?, String)], tokens: Bool = false, input: String, expected: String) {
            self.init(name, secrets: secrets, tokens: tokens, input: Array(input.utf8), expected: Array(expected.utf8))
        }
    }

    static let pem = Fixture.pemKey()
    static let serviceAccount = """
        {
          "type": "service_account",
          "private_key_id": "3f9a1c77d2e04b5a",
          "client_email": "builder@proj-42.iam.example.com",
          "scopes": ["read", "write"],
          "nested": { "token": "tok-99887766554433", "port": 5432123 }
        }
        """
    static let awkward = "p@ss\"w\\rd/x\ny:z ünï"
    static let quoted = "it's-a-s3cret"
    static let user = "correct-horse-battery"

    static let cases: [Case] = [
        Case(
            "multi-line PEM secret", secrets: [("KEY", pem)],
            input: "before\n" + pem + "\nafter\n", expected: "before\n[REDACTED:KEY]\nafter\n"),
        Case(
            "multi-line PEM secret through a PTY (\\r\\r\\n)", secrets: [("KEY", pem)],
            input: "before\r\r\n" + pem.replacingOccurrences(of: "\n", with: "\r\r\n") + "\r\r\nafter",
            expected: "before\r\r\n[REDACTED:KEY]\r\r\nafter"),
        Case(
            "multi-line value printed on one line by echo $S and by set -x", secrets: [("MULTI", "line one\nline-two")],
            input: "+ echo line one line-two\nline one line-two\n+ : 'line one\nline-two'\n",
            expected: "+ echo [REDACTED:MULTI]\n[REDACTED:MULTI]\n+ : '[REDACTED:MULTI]'\n"),
        Case(
            "a line of a multi-line value on its own", secrets: [("KEY", pem)],
            input: "line 3: " + pem.split(separator: "\n")[3] + ".",
            expected: "line 3: [REDACTED:KEY]."),
        Case(
            "JSON document secret re-serialised by jq -c keeps structure", secrets: [("SA", serviceAccount)],
            input: jqCompact(serviceAccount) + "\n",
            expected: #"{"type":"[REDACTED:SA]","private_key_id":"[REDACTED:SA]","client_email":"[REDACTED:SA]","#
                + #""scopes":["read","write"],"nested":{"token":"[REDACTED:SA]","port":[REDACTED:SA]}}"# + "\n"),
        Case(
            "JSON-escaped secret", secrets: [("A", awkward)],
            input: Array(#"{"password":"#.utf8) + jsonEncoded(awkward) + Array("}".utf8),
            expected: Array(#"{"password":"[REDACTED:A]"}"#.utf8)),
        Case(
            "JSON-escaped secret with \\/ and \\u escapes", secrets: [("A", awkward)],
            input: #"a="p@ss\"w\\rd\/x\ny:z \u00fcn\u00ef" b="p@ss\"w\\rd/x\ny:z \u00FCn\u00EF""#,
            expected: #"a="[REDACTED:A]" b="[REDACTED:A]""#),
        Case(
            "URL-encoded secret, upper and lower case", secrets: [("A", awkward)],
            input: "GET /?p=" + percentEncoded(awkward) + "&q=" + percentEncoded(awkward).lowercased() + " HTTP/1.1",
            expected: "GET /?p=[REDACTED:A]&q=[REDACTED:A] HTTP/1.1"),
        Case(
            "encodeURIComponent-style secret", secrets: [("Q", quoted)],
            input: "x=" + encodeURIComponent(quoted) + ";", expected: "x=[REDACTED:Q];"),
        Case(
            "base64'd secret", secrets: [("A", awkward)],
            input: "data: " + Data(awkward.utf8).base64EncodedString() + "\n",
            expected: "data: [REDACTED:A]\n"),
        Case(
            "base64url'd secret without padding", secrets: [("A", awkward)],
            input: "data: " + base64URL(Data(awkward.utf8)) + ".",
            expected: "data: [REDACTED:A]."),
        Case(
            "echo $S | base64 (the value and a newline)", secrets: [("U", user)],
            input: Data((user + "\n").utf8).base64EncodedString() + "\n",
            expected: "[REDACTED:U]\n"),
        Case(
            "user:S base64'd as in Basic auth", secrets: [("U", user)],
            input: "Authorization: Basic " + Data(("alex:" + user).utf8).base64EncodedString() + "\r\n",
            // "alex:" is 40 bits: characters 0-5 carry only its bits, the 7th mixes in two bits of the
            // secret; everything after that is the secret's and goes, padding included.
            expected: "Authorization: Basic "
                + String(Data(("alex:" + user).utf8).base64EncodedString().prefix(7)) + "[REDACTED:U]\r\n"),
        Case(
            "shell-quoted by set -x", secrets: [("Q", quoted)],
            input: "+ curl -H 'X-Token: it'\\''s-a-s3cret' https://example.com\n",
            expected: "+ curl -H 'X-Token: [REDACTED:Q]' https://example.com\n"),
        Case(
            "colour escape inside the secret", secrets: [("T", "token-abcdef")],
            input: "\u{1B}[32mtok\u{1B}[1;31men-abc\u{1B}[0mdef!",
            expected: "\u{1B}[32m[REDACTED:T]\u{1B}[1;31m\u{1B}[0m!"),
        Case(
            "truecolour escapes (long CSI) inside and around the secret", secrets: [("T", "token-abcdef")],
            input: "\u{1B}[38;2;255;100;0mtok\u{1B}[48;5;12men-a\u{1B}[01;02;03mbc\u{1B}[0mdef\u{1B}[38;2;1;2;3m!",
            expected: "\u{1B}[38;2;255;100;0m[REDACTED:T]\u{1B}[48;5;12m\u{1B}[01;02;03m\u{1B}[0m\u{1B}[38;2;1;2;3m!"),
        Case(
            "a CSI that never ends is text, and the secret after it is found",
            secrets: [("T", "token-abcdef")],
            input: "\u{1B}[" + String(repeating: "1;", count: 40) + "\u{07}token-abcdef.",
            expected: "\u{1B}[" + String(repeating: "1;", count: 40) + "\u{07}[REDACTED:T]."),
        Case(
            "escape right before and right after the secret stay outside the marker",
            secrets: [("T", "token-abcdef")],
            input: "a\u{1B}[1m\u{1B}[4mtoken-abcdef\u{1B}[0m\u{1B}[2mb",
            expected: "a\u{1B}[1m\u{1B}[4m[REDACTED:T]\u{1B}[0m\u{1B}[2mb"),
        Case(
            "two secrets, one a prefix of the other",
            secrets: [("SHORT", "abcdef123"), ("LONG", "abcdef123456789")],
            input: "x abcdef123456789 y abcdef123 z abcdef1234",
            expected: "x [REDACTED:LONG] y [REDACTED:SHORT] z [REDACTED:SHORT]4"),
        Case(
            "overlapping secrets become one marker", secrets: [("A", "alpha-beta"), ("B", "beta-gamma")],
            input: "[alpha-beta-gamma]", expected: "[[REDACTED:A]]"),
        Case(
            "non-ASCII secret among UTF-8 and invalid bytes", secrets: [("U", "pässwörd-ünïcødé")],
            input: Array("ä→".utf8) + [0xFF, 0xC3] + Array("pässwörd-ünïcødé".utf8) + [0xC3] + Array("€".utf8),
            expected: Array("ä→".utf8) + [0xFF, 0xC3] + Array("[REDACTED:U]".utf8) + [0xC3] + Array("€".utf8)),
        Case(
            "secret shorter than the minimum is not registered", secrets: [("PIN", "12345")],
            input: "pin 12345", expected: "pin 12345"),
        Case(
            "a value that is a common word is redacted everywhere", secrets: [("W", "password")],
            input: "enter password: passwords", expected: "enter [REDACTED:W]: [REDACTED:W]s"),
        Case(
            "secret inside an OSC 8 hyperlink", secrets: [("T", "token-abcdef")],
            input: "\u{1B}]8;;https://x.test/?t=token-abcdef\u{1B}\\link\u{1B}]8;;\u{07}",
            expected: "\u{1B}]8;;https://x.test/?t=[REDACTED:T]\u{1B}\\link\u{1B}]8;;\u{07}"),
    ]

    @Test(arguments: cases)
    func redactsWholeInput(_ example: Case) {
        let redactor = Fixture.redactor(example.secrets, tokens: example.tokens)
        let output = Fixture.redact(redactor, example.input)
        #expect(Fixture.text(output) == Fixture.text(example.expected))
    }

    @Test(arguments: cases)
    func redactsSecretSplitAcrossWrites(_ example: Case) {
        let redactor = Fixture.redactor(example.secrets, tokens: example.tokens)
        #expect(Fixture.oneByteWrites(redactor, example.input) == example.expected)
        for cut in 0...example.input.count {
            let output = Fixture.redact(redactor, example.input, cuts: [cut])
            #expect(output == example.expected, "split at \(cut)")
            if output != example.expected { break }
        }
    }

    @Test func shortSecretIsWarnedAbout() {
        let redactor = Fixture.redactor([("PIN", "12345"), ("OK", "long-enough")])
        #expect(redactor.warnings == [.tooShort(name: "PIN", length: 5, minimum: 6)])
        #expect(redactor.warnings[0].description.contains("will not be redacted"))
    }

    @Test func commonWordIsWarnedAbout() {
        let redactor = Fixture.redactor([("W", "password"), ("R", "x8#kQ!2mZ")])
        #expect(redactor.warnings == [.commonWord(name: "W")])
    }

    @Test func setXOutputOfRealBash() throws {
        let secret = Self.quoted + "\nsecond line"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-xc", #": "$S"; echo $S"#]
        process.environment = ["S": secret, "PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let redacted = Fixture.text(Fixture.redact(Fixture.redactor([("S", secret)]), Array(output)))
        // `echo $S` splits the value into words and quotes the one with the quote on its own.
        #expect(redacted == "+ : '[REDACTED:S]'\n+ echo '[REDACTED:S]' [REDACTED:S]\n[REDACTED:S]\n")
    }

    // MARK: Encoders used to build inputs, independent of the ones under test

    /// What `jq -c` prints: the same document with the whitespace between tokens removed.
    static func jqCompact(_ json: String) -> String {
        var out = ""
        var inString = false
        var escaped = false
        for character in json {
            if inString {
                out.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
            } else if character == "\"" {
                inString = true
                out.append(character)
            } else if !character.isWhitespace {
                out.append(character)
            }
        }
        return out
    }

    static func jsonEncoded(_ value: String) -> [UInt8] {
        let data = try! JSONSerialization.data(withJSONObject: [value], options: [.withoutEscapingSlashes])
        return Array(data.dropFirst(1).dropLast(1))  // drop [ ] and keep the quotes
    }

    static func percentEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    static func encodeURIComponent(_ value: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "-_.!~*'()")
        return value.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
