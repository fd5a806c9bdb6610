import TestSupport
import Testing

@testable import Redaction

/// The property of issue 5: however the input is split into writes, the output is the same as for
/// the whole input at once, and no registered form of a secret survives.
struct StreamingPropertyTests {
    static let seeds: [UInt64] = Array(1...40)

    /// Random text with secrets embedded in random forms, through a PTY, with colour changes.
    struct Sample {
        var secrets: [RedactionSecret] = []
        var input: [UInt8] = []
    }

    static func sample(seed: UInt64) -> Sample {
        var random = SeededGenerator(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }

        let secretAlphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.:/+=%'\"\\ ".utf8)
        var sample = Sample()
        for index in 0..<(2 + Int(random.next() % 3)) {
            var value = (0..<(6 + Int(random.next() % 18))).map { _ in pick(secretAlphabet) }
            if chance(25) { value.insert(0x0A, at: 3 + Int(random.next() % UInt64(value.count - 3))) }
            if chance(20) { value += Array("ü€".utf8) }
            if chance(20), let other = sample.secrets.last {  // share a prefix with the previous one
                value = Array(other.value.prefix(4)) + value
            }
            while value.first.map(isWhitespace) == true { value.removeFirst() }
            while value.last.map(isWhitespace) == true { value.removeLast() }
            if value.count < 6 { value += Array("Zz9Zz9".utf8) }
            sample.secrets.append(RedactionSecret(name: "S\(index)", value: value))
        }
        let fragments: [[UInt8]] = [
            Array("the ".utf8), Array("value".utf8), Array(" = ".utf8), Array("\r\n".utf8), Array("\n".utf8),
            Array("  ".utf8), Array("\u{1B}[1;31m".utf8), Array("\u{1B}[0m".utf8), Array("é".utf8), [0xFF], [0xC3],
            Array("\"".utf8), Array("{\"k\":".utf8), Array("ghp_".utf8), Array("sk-".utf8), Array("eyJ".utf8),
            Array("ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5".utf8),
            Array("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl".utf8),
        ]
        for _ in 0..<(20 + Int(random.next() % 30)) {
            if chance(15) {
                let secret = pick(sample.secrets)
                var form = pick(SecretForms.forms(of: secret.value))
                if chance(30) {  // a PTY turns \n into \r\n, or worse
                    form = form.flatMap { $0 == 0x0A ? Array("\r\r\n".utf8) : [$0] }
                }
                if chance(30) && form.count > 2 {  // a colour change inside the secret
                    form.insert(
                        contentsOf: Array("\u{1B}[32m".utf8), at: 1 + Int(random.next() % UInt64(form.count - 1)))
                }
                sample.input += form
            } else {
                sample.input += pick(fragments)
            }
        }
        return sample
    }

    @Test(arguments: seeds)
    func splitDoesNotChangeOutput(seed: UInt64) {
        let sample = Self.sample(seed: seed)
        let redactor = Redactor(secrets: sample.secrets)
        let whole = Fixture.redact(redactor, sample.input)
        #expect(Fixture.oneByteWrites(redactor, sample.input) == whole, "seed \(seed): one-byte writes")
        for cut in 0...sample.input.count {
            let split = Fixture.redact(redactor, sample.input, cuts: [cut])
            #expect(split == whole, "seed \(seed): split at \(cut)")
            if split != whole { break }
        }
        var random = SeededGenerator(seed: seed ^ 0xABCD)
        let cuts = (0..<8).map { _ in Int(random.next() % UInt64(sample.input.count + 1)) }
        #expect(Fixture.redact(redactor, sample.input, cuts: cuts) == whole, "seed \(seed): cuts \(cuts)")
    }

    @Test(arguments: seeds)
    func noRegisteredFormSurvives(seed: UInt64) {
        let sample = Self.sample(seed: seed)
        let redactor = Redactor(secrets: sample.secrets)
        let output = Normalizer.view(of: Fixture.redact(redactor, sample.input))
        for secret in sample.secrets {
            for form in SecretForms.forms(of: secret.value) {
                let pattern = Normalizer.view(of: form)
                guard pattern.count >= RedactionOptions.defaultMinimumLength else { continue }
                #expect(!Fixture.contains(output, pattern), "seed \(seed): \(Fixture.text(pattern)) survived")
            }
        }
    }
}
