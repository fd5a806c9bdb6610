import AgentboxCore
import Testing
import TestSupport

@testable import BrokerProtocol

/// Strings of every awkward kind, written by one side and read by an independent JSON
/// implementation (Python's), and back: the wire format is JSON as anyone else reads it.
@Suite struct WireJSONInteropTests {
    static func awkwardStrings(count: Int) -> [String] {
        var generator = SeededGenerator(seed: 0x4a53_4f4e)
        let pools: [ClosedRange<UInt32>] = [0...0x7f, 0x80...0x7ff, 0x800...0xd7ff, 0xe000...0xffff, 0x10000...0x10ffff]
        return (0..<count).map { _ in
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...24, using: &generator) {
                let pool = pools[Int.random(in: 0..<pools.count, using: &generator)]
                scalars.append(Unicode.Scalar(UInt32.random(in: pool, using: &generator))!)
            }
            return String(scalars)
        } + ["", "\"", "\\", "\u{0}", "\u{7f}", "\u{2028}\u{2029}", "</script>", "a\r\nb"]
    }

    @Test func pythonReadsWhatWeWriteAndWeReadWhatPythonWrites() throws {
        let strings = Self.awkwardStrings(count: 400)
        let script = """
            import json, sys
            values = json.loads(sys.stdin.buffer.read().decode("utf-8"))
            assert isinstance(values, list)
            sys.stdout.write(json.dumps(values, ensure_ascii=True))
            """
        guard let python = ChildProcess.find(executable: "python3", inPath: "/usr/bin:/bin") else {
            throw FixtureError("python3 is not installed")
        }
        let output = try ChildProcess.run(
            executable: python, arguments: ["-c", script], environment: [:], input: .bytes(WireJSON.encode(strings)),
            timeout: .seconds(30))
        #expect(output.status.isSuccess, "\(output.standardErrorText)")
        let back = try WireJSON.decode([String].self, from: Array(output.standardOutputText.utf8))
        #expect(back == strings)
    }
}
