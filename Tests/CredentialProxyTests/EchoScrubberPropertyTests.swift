import TestSupport
import AgentboxCore
import Testing

@testable import CredentialProxy

/// A small deterministic generator (SplitMix64), so that a failing case can be replayed.

/// The scrubber's guarantee as properties: no form of the key survives, and the output is the
/// same however the stream is split into chunks.
@Suite struct EchoScrubberPropertyTests {
    static let secret = Array("sk-test-0123456789abcdef/+=xyz".utf8)

    /// Every form the scrubber must catch: raw, percent-encoded, base64 cores (both alphabets).
    static let forms: [[UInt8]] = {
        var forms = [secret, EchoScrubber.percentEncoded(secret)]
        for shift in 0..<3 { forms += EchoScrubber.base64Cores(secret, shift: shift) }
        return forms
    }()

    /// A stream that mixes noise made of the forms' own characters with whole forms, forms cut
    /// short, and forms with one byte changed: the cases where a split could change a decision.
    static func stream(seed: UInt64) -> [UInt8] {
        var random = SeededGenerator(seed: seed)
        let alphabet = Array(Set(forms.joined())) + Array("\n\"x ".utf8)
        var out: [UInt8] = []
        for _ in 0..<Int.random(in: 5...40, using: &random) {
            let form = forms.randomElement(using: &random)!
            switch Int.random(in: 0..<5, using: &random) {
            case 0: out += form
            case 1: out += form.prefix(Int.random(in: 1..<form.count, using: &random))
            case 2:
                var changed = form
                changed[Int.random(in: 0..<form.count, using: &random)] = UInt8(ascii: "!")
                out += changed
            default:
                for _ in 0..<Int.random(in: 0...30, using: &random) {
                    out.append(alphabet.randomElement(using: &random)!)
                }
            }
        }
        return out
    }

    static func scrub(_ bytes: [UInt8], chunkSizes: (Int) -> Int) -> [UInt8] {
        let scrubber = EchoScrubber(secret: SecretBytes(secret))
        var out: [UInt8] = []
        var index = 0
        var chunk = 0
        while index < bytes.count {
            let size = max(1, chunkSizes(chunk))
            out += scrubber.feed(Array(bytes[index..<min(bytes.count, index + size)]))
            index += size
            chunk += 1
        }
        return out + scrubber.finish()
    }

    @Test(arguments: 0..<40)
    func redactsEveryFormHoweverTheStreamIsSplit(seed: Int) {
        let input = Self.stream(seed: UInt64(seed))
        let whole = Self.scrub(input) { _ in 1 << 20 }
        for form in Self.forms {
            #expect(whole.firstRange(of: form) == nil, "a form of the key survived (seed \(seed))")
        }
        for size in [1, 2, 3, 5, 7, 13, 29, 31, 64] {
            #expect(Self.scrub(input) { _ in size } == whole, "split every \(size) (seed \(seed))")
        }
        var random = SeededGenerator(seed: UInt64(seed) &+ 1000)
        for round in 0..<5 {
            let sizes = (0..<input.count).map { _ in Int.random(in: 1...48, using: &random) }
            #expect(Self.scrub(input) { sizes[$0] } == whole, "random split \(round) (seed \(seed))")
        }
    }

    /// The one-pass search finds what a naive search finds: the earliest start, the longest there.
    @Test(arguments: 0..<20)
    func patternSetAgreesWithNaiveSearch(seed: Int) {
        let set = PatternSet(Self.forms)
        let input = Self.stream(seed: UInt64(seed) &+ 500)
        var random = SeededGenerator(seed: UInt64(seed))
        for _ in 0..<50 {
            let from = Int.random(in: 0...input.count, using: &random)
            let limit = Int.random(in: from...input.count + 1, using: &random)
            var expected: (start: Int, length: Int)?
            search: for start in from..<min(limit, input.count) {
                for form in Self.forms.sorted(by: { $0.count > $1.count })
                where start + form.count <= input.count && Array(input[start..<start + form.count]) == form {
                    expected = (start, form.count)
                    break search
                }
            }
            let found = input.withUnsafeBytes { set.firstMatch(in: $0, from: from, startsBefore: limit) }
            #expect(found?.start == expected?.start && found?.length == expected?.length, "from \(from) limit \(limit)")
        }
    }

    /// The sampled scan with the shortest patterns (one sample every one or two bytes) and with
    /// lengths far apart, over text made of the patterns' own bytes: still what a naive search finds.
    @Test(arguments: [["ab"], ["abc", "bca"], ["ab", "abcdefgh"], ["xyz", "xyzxyzxyzxyz", "zyx"], ["aaaa", "aaab"]])
    func patternSetWithShortPatternsAgreesWithNaiveSearch(_ texts: [String]) {
        let forms = texts.map { Array($0.utf8) }
        let set = PatternSet(forms)
        var random = SeededGenerator(seed: UInt64(texts.joined().utf8.count))
        let alphabet = Array(Set(forms.joined())) + [UInt8(ascii: "-")]
        for _ in 0..<200 {
            let input = (0..<Int.random(in: 0...40, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            let from = Int.random(in: 0...input.count, using: &random)
            let limit = Int.random(in: from...input.count + 1, using: &random)
            var expected: (start: Int, length: Int)?
            search: for start in from..<min(limit, input.count) {
                for form in forms.sorted(by: { $0.count > $1.count })
                where start + form.count <= input.count && Array(input[start..<start + form.count]) == form {
                    expected = (start, form.count)
                    break search
                }
            }
            let found = input.withUnsafeBytes { set.firstMatch(in: $0, from: from, startsBefore: limit) }
            #expect(found?.start == expected?.start && found?.length == expected?.length, "\(input) from \(from) limit \(limit)")
        }
    }

    @Test func oneByteSecretIsStillCaught() {
        let scrubber = EchoScrubber(secret: SecretBytes(Array("k".utf8)))
        var out = scrubber.feed(Array("a k b".utf8))
        out += scrubber.finish()
        #expect(String(decoding: out, as: UTF8.self) == "a [REDACTED] b")
    }
}
