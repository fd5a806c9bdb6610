import TestSupport
import Testing

@testable import Redaction

/// The matching view keeps whitespace as it is and a space in a pattern matches any whitespace run
/// when a match is verified (backwards from the anchor, forwards to the end). These cases stress
/// what that model adds: runs and escapes cut by writes, anchors far from a match's start, and the
/// collapsing view the redactor falls back to for phrases of short words.
struct WhitespaceViewTests {
    /// Output for the whole input, one-byte writes, and every two-piece split must all be `expected`.
    func expectEverySplit(_ redactor: Redactor, _ input: [UInt8], _ expected: [UInt8]) {
        #expect(Fixture.text(Fixture.redact(redactor, input)) == Fixture.text(expected))
        #expect(Fixture.text(Fixture.oneByteWrites(redactor, input)) == Fixture.text(expected), "one-byte writes")
        for cut in 0...input.count {
            let output = Fixture.redact(redactor, input, cuts: [cut])
            #expect(Fixture.text(output) == Fixture.text(expected), "split at \(cut)")
            if output != expected { break }
        }
    }

    @Test func redactsSecretWithWhitespaceRunSplitAcrossWrites() {
        let redactor = Fixture.redactor([("S", "alpha-one\nbeta-two-three")])
        let input = Fixture.bytes("x alpha-one \r\r\n\t  beta-two-three y")
        expectEverySplit(redactor, input, Fixture.bytes("x [REDACTED:S] y"))
        #expect(!redactor.collapsesWhitespace)
    }

    @Test func redactsSecretWithEscapeSplitAcrossWrites() {
        let redactor = Fixture.redactor([("S", "token-abcdef-123456")])
        let input = Fixture.bytes("a \u{1B}[1;31mtoken-abc\u{1B}[0m\u{1B}[32mdef-123456\u{1B}[0m b")
        expectEverySplit(redactor, input, Fixture.bytes("a \u{1B}[1;31m[REDACTED:S]\u{1B}[0m\u{1B}[32m\u{1B}[0m b"))
    }

    @Test func redactsSecretWhoseAnchorFollowsALongWhitespaceRun() {
        // The longest run without whitespace, where the anchors are, is the last word: the match
        // is found from there and verified backwards over 300 bytes of whitespace and escapes.
        let redactor = Fixture.redactor([("S", "ab cd ef-gh a-much-longer-word-here")])
        let run = String(repeating: " \r\n\u{1B}[0m\t", count: 60)
        let input = Fixture.bytes("[ab cd" + run + "ef-gh\r\na-much-longer-word-here]")
        expectEverySplit(
            redactor, input, Fixture.bytes("[[REDACTED:S]" + String(repeating: "\u{1B}[0m", count: 60) + "]"))
    }

    @Test func doesNotRedactWhenWhitespaceIsMissingOrAWordDiffers() {
        let redactor = Fixture.redactor([("S", "ab cd ef-gh a-much-longer-word-here")])
        for text in [
            "abcd ef-gh a-much-longer-word-here", "ab cd ef-ghx a-much-longer-word-here",
            "ab cd ef-gh a-much-longer-word-her", "ab cd efgh a-much-longer-word-here",
        ] {
            expectEverySplit(redactor, Fixture.bytes(text), Fixture.bytes(text))
        }
    }

    @Test func redactsPhraseOfShortWordsInCollapsingMode() {
        // No five bytes in a row without whitespace: such a pattern cannot be anchored in the raw
        // view, so the redactor collapses whitespace runs (the slower mode) and still finds it.
        let redactor = Fixture.redactor([("P", "my cat is fat"), ("T", "token-abcdef")])
        #expect(redactor.collapsesWhitespace)
        let input = Fixture.bytes("say my\r\ncat  is\u{1B}[1m \tfat; token-abcdef\r\n")
        expectEverySplit(redactor, input, Fixture.bytes("say [REDACTED:P]\u{1B}[1m; [REDACTED:T]\r\n"))
    }

    @Test func redactsPEMHeaderWithTabsAndDoubleSpaces() {
        let redactor = Redactor(secrets: [])
        let body = Fixture.pemKey(lines: 2, seed: 3).split(separator: "\n").dropFirst().dropLast()
            .joined(separator: "\r\n")
        let input = Fixture.bytes(
            "$ cat k\r\n-----BEGIN  RSA\tPRIVATE \r\nKEY-----\r\n" + body + "\r\n-----END RSA PRIVATE  KEY-----\r\n$ ")
        expectEverySplit(redactor, input, Fixture.bytes("$ cat k\r\n[REDACTED:private-key]\r\n$ "))
    }

    /// Random values with spaces, written with random whitespace runs and escapes for each space:
    /// the same output however the input is split, and the value gone.
    @Test(arguments: Array(UInt64(1)...30))
    func randomWhitespaceRunsDoNotDependOnSplits(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let letters = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.".utf8)
        var words: [[UInt8]] = []
        for _ in 0..<(2 + Int(random.next() % 3)) {
            words.append((0..<(1 + Int(random.next() % 9))).map { _ in pick(letters) })
        }
        words.append((0..<6).map { _ in pick(letters) })  // at least one anchorable word
        let value = Array(words.joined(separator: [0x20]))
        let redactor = Redactor(secrets: [RedactionSecret(name: "V", value: value)])
        let runs: [[UInt8]] = [
            [0x20], [0x0A], [0x0D, 0x0A], [0x0D, 0x0D, 0x0A], [0x20, 0x20, 0x09], Array("\u{1B}[0m ".utf8),
            Array(" \u{1B}[1;32m\r\n".utf8), Array(repeating: 0x20, count: 40),
        ]
        var input = Fixture.bytes("x\u{1B}[1m ")
        for (index, word) in words.enumerated() {
            if index > 0 { input += pick(runs) }
            input += word
        }
        input += Fixture.bytes(" y")
        let whole = Fixture.redact(redactor, input)
        #expect(Fixture.text(whole).contains("[REDACTED:V]"), "seed \(seed): \(Fixture.text(input))")
        #expect(Fixture.oneByteWrites(redactor, input) == whole, "seed \(seed): one-byte writes")
        for cut in 0...input.count {
            let split = Fixture.redact(redactor, input, cuts: [cut])
            #expect(split == whole, "seed \(seed): split at \(cut)")
            if split != whole { break }
        }
    }
}
