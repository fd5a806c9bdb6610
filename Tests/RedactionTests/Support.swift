import TestSupport
import Redaction

/// Helpers shared by the redaction tests.
enum Fixture {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func redactor(_ secrets: [(String?, String)], tokens: Bool = true) -> Redactor {
        Redactor(
            secrets: secrets.map { RedactionSecret(name: $0.0, value: bytes($0.1)) },
            options: RedactionOptions(knownTokenFormats: tokens))
    }

    /// Writes `input` in pieces cut at `cuts`, then flushes.
    static func redact(_ redactor: Redactor, _ input: [UInt8], cuts: [Int] = []) -> [UInt8] {
        let stream = redactor.makeStream()
        var out: [UInt8] = []
        var start = 0
        for cut in cuts.sorted() + [input.count] where cut >= start {
            stream.write(Array(input[start..<cut]), into: &out)
            start = cut
        }
        stream.flush(into: &out)
        return out
    }

    static func oneByteWrites(_ redactor: Redactor, _ input: [UInt8]) -> [UInt8] {
        let stream = redactor.makeStream()
        var out: [UInt8] = []
        for byte in input { stream.write([byte], into: &out) }
        stream.flush(into: &out)
        return out
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
        let first = needle[0]
        var index = 0
        while index + needle.count <= haystack.count {
            if haystack[index] == first && haystack[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    /// A PEM-shaped private key with deterministic base64 lines.
    static func pemKey(lines: Int = 8, seed: UInt64 = 7) -> String {
        var generator = SeededGenerator(seed: seed)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var body: [String] = []
        for _ in 0..<lines {
            body.append(String((0..<64).map { _ in alphabet[Int(generator.next() % 64)] }))
        }
        return "-----BEGIN RSA PRIVATE KEY-----\n" + body.joined(separator: "\n") + "\n-----END RSA PRIVATE KEY-----"
    }
}

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
