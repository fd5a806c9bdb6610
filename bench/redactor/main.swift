// redactor-bench: the redactor's throughput on a fixed 256 MiB corpus with 0, 10, 100 and 1000
// secrets (every form registered), against copying the same bytes in the same run.
//
// Usage: redactor-bench [--mib N] [--chunk BYTES] [--runs N] [--secrets N] [--only KIND] [--checksum 1]
//                       [--cpu-time 1]
//
// `--checksum 1` adds an untimed pass that hashes the output (FNV-1a), to check that a change to the
// redactor leaves its output as it was.

import Redaction
import TestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif


/// `value` with `decimals` digits after the point, right-aligned in `width`.
func fixed(_ value: Double, _ decimals: Int, width: Int = 0) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    var text = String(scaled / Int(scale))
    if decimals > 0 {
        let fraction = String(scaled % Int(scale))
        text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

/// With `--cpu-time 1`, the process's CPU time: on a shared machine, time spent waiting for a core
/// does not count (cache interference from other processes still does).
let useCPUTime = CommandLine.arguments.contains("--cpu-time")
    && CommandLine.arguments.drop { $0 != "--cpu-time" }.dropFirst().first != "0"

func now() -> Double {
    var spec = timespec()
    clock_gettime(useCPUTime ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1])
    else { return fallback }
    return value
}
let mebibytes = option("--mib", 256)
let chunk = option("--chunk", 64 * 1024)
let runs = option("--runs", 3)
/// Only one kind of content (0: compiler output, 4: JSON lines, 7: base64, 8: CRLF text), for profiling.
let only = option("--only", -1)
let checksum = option("--checksum", 0) != 0

struct Generator {
    var random = SeededGenerator(seed: 42)

    // MARK: Secrets

    static let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.+/=!@#%".utf8)
    mutating func makeSecret(_ index: Int) -> [UInt8] {
        let length = 16 + Int(random.next() % 33)
        var value = (0..<length).map { _ in Self.secretAlphabet[Int(random.next() % UInt64(Self.secretAlphabet.count))]
        }
        if index % 10 == 9 {  // every tenth: a multi-line value
            value += [0x0A] + (0..<24).map { _ in Self.secretAlphabet[Int(random.next() % 62)] }
        }
        return value
    }

    // MARK: Corpus: compiler output with colours, JSON lines, base64 blobs, CRLF text

    static let words = [
        "let", "value", "request", "cannot", "find", "in", "scope", "type", "String", "Int", "return", "func",
        "error", "warning", "note", "expected", "argument", "label", "struct", "self", "init", "the", "of", "to", "and",
    ]
    static let base64Characters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    mutating func word() -> String { Self.words[Int(random.next() % UInt64(Self.words.count))] }
    mutating func number(_ limit: UInt64) -> Int { Int(random.next() % limit) }

    mutating func compilerOutput(into out: inout [UInt8]) {
        let file = "Sources/Module\(number(40))/File\(number(200)).swift"
        let kind = ["error", "warning", "note"][number(3)]
        let colour = kind == "error" ? "31" : kind == "warning" ? "35" : "30"
        let message = (0..<(4 + number(8))).map { _ in word() }.joined(separator: " ")
        let code = "    " + (0..<(3 + number(9))).map { _ in word() }.joined(separator: " ")
        out += Array(
            "\u{1B}[1m\(file):\(number(900) + 1):\(number(80) + 1): \u{1B}[0;1;\(colour)m\(kind): \u{1B}[0m\u{1B}[1m\(message)\u{1B}[0m\n"
                .utf8)
        out += Array("\(code)\n".utf8)
        out += Array(("\u{1B}[0;1;32m" + String(repeating: " ", count: 4 + number(30)) + "^~~~~\u{1B}[0m\n").utf8)
    }

    mutating func jsonLine(into out: inout [UInt8]) {
        let level = ["info", "debug", "warn"][number(3)]
        let time = "2025-05-0\(number(9) + 1)T12:\(number(50) + 10):\(number(50) + 10).\(number(900) + 100)Z"
        let message = "\(word()) \(word()) \(word())"
        let path = "/api/v1/\(word())/\(number(100000))"
        let line: String =
            #"{"ts":""# + time + #"","level":""# + level + #"","msg":""# + message + #"","path":""# + path
            + #"","duration_ms":"# + "\(number(5000)).\(number(10))" + #","user":"u-"# + "\(number(99999))" + #""}"#
        out += Array(line.utf8)
        out.append(0x0A)
    }

    mutating func base64Blob(into out: inout [UInt8]) {
        let lines = 4 + number(20)
        for _ in 0..<lines {
            for _ in 0..<76 { out.append(Self.base64Characters[number(64)]) }
            out += [0x0D, 0x0A]
        }
    }

    mutating func crlfText(into out: inout [UInt8]) {
        out += Array(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(number(100000))\r\nX-Request-Id: \(number(1 << 30))\r\n\r\n"
                .utf8)
    }

    mutating func buildCorpus(bytes: Int, secrets: [[UInt8]]) -> [UInt8] {
        // 16 MiB of distinct content, repeated: larger than any cache, cheap to build.
        let unique = min(bytes, 16 << 20)
        var block: [UInt8] = []
        block.reserveCapacity(unique + 4096)
        var sprinkled = 0
        while block.count < unique {
            switch only >= 0 ? only : number(10) {
            case 0..<4: compilerOutput(into: &block)
            case 4..<7: jsonLine(into: &block)
            case 7..<8: base64Blob(into: &block)
            default: crlfText(into: &block)
            }
            if block.count / (1 << 20) > sprinkled {  // one secret of the first ten per MiB
                sprinkled += 1
                block += Array("export TOKEN=".utf8) + secrets[sprinkled % 10] + [0x0A]
            }
        }
        block.removeLast(block.count - unique)
        var corpus: [UInt8] = []
        corpus.reserveCapacity(bytes)
        while corpus.count < bytes { corpus += block.prefix(bytes - corpus.count) }
        return corpus
    }

}

var generator = Generator()
let allSecrets = (0..<1000).map { generator.makeSecret($0) }
let corpusBytes = mebibytes << 20
let corpus = generator.buildCorpus(bytes: corpusBytes, secrets: allSecrets)

// MARK: Measurements

func best(_ body: () -> Void) -> Double {
    var fastest = Double.infinity
    for _ in 0..<runs {
        let start = now()
        body()
        fastest = min(fastest, now() - start)
    }
    return fastest
}

var sink = [UInt8](repeating: 0, count: chunk)
let copySeconds = best {
    corpus.withUnsafeBytes { source in
        sink.withUnsafeMutableBytes { target in
            var offset = 0
            while offset < source.count {
                let count = min(chunk, source.count - offset)
                memcpy(target.baseAddress!, source.baseAddress! + offset, count)
                offset += count
            }
        }
    }
}
let copyRate = Double(corpusBytes) / copySeconds / 1e6
print(
    "corpus: \(mebibytes) MiB, writes of \(chunk) bytes, best of \(runs) runs"
        + (useCPUTime ? ", CPU time" : ", wall-clock time"))
print("memcpy (same chunks):                      \(fixed(copyRate, 0, width: 8)) MB/s   1.00")

for count in (option("--secrets", -1) >= 0 ? [option("--secrets", -1)] : [0, 10, 100, 1000]) {
    let secrets = allSecrets.prefix(count).enumerated().map {
        RedactionSecret(name: "S\($0.offset)", value: $0.element)
    }
    let buildStart = now()
    let redactor = Redactor(secrets: secrets)
    let buildSeconds = now() - buildStart
    var output: [UInt8] = []
    output.reserveCapacity(chunk * 2)
    var markers = 0
    var outputBytes = 0
    let seconds = best {
        let stream = redactor.makeStream()
        markers = 0
        outputBytes = 0
        corpus.withUnsafeBytes { source in
            var offset = 0
            while offset < source.count {
                let count = min(chunk, source.count - offset)
                output.removeAll(keepingCapacity: true)
                stream.write(UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]), into: &output)
                outputBytes += output.count
                offset += count
            }
        }
        output.removeAll(keepingCapacity: true)
        stream.flush(into: &output)
        outputBytes += output.count
    }
    _ = markers
    var digest = ""
    if checksum {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ bytes: [UInt8]) { for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 } }
        let stream = redactor.makeStream()
        corpus.withUnsafeBytes { source in
            var offset = 0
            while offset < source.count {
                let count = min(chunk, source.count - offset)
                output.removeAll(keepingCapacity: true)
                stream.write(UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]), into: &output)
                mix(output)
                offset += count
            }
        }
        output.removeAll(keepingCapacity: true)
        stream.flush(into: &output)
        mix(output)
        digest = ", checksum " + String(hash, radix: 16)
    }
    let rate = Double(corpusBytes) / seconds / 1e6
    let label = "\(count) secrets, \(redactor.patternCount) patterns"
    print(
        label + String(repeating: " ", count: max(0, 42 - label.count))
            + "\(fixed(rate, 0, width: 8)) MB/s   \(fixed(rate / copyRate, 2))"
            + "   (built in \(fixed(buildSeconds * 1000, 0)) ms, output \(outputBytes) bytes\(digest))")
}
