import AgentboxCore
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `make demo` (scripts/demo, here against the debug build): the agent session's redacted
/// transcript outlives the demo's temporary directory, at the path the demo prints last.
@Suite(.serialized)
struct DemoTests {
    @Test func demoKeepsTheRedactedTranscriptAtThePathItPrints() throws {
        let state = try TemporaryDirectory(prefix: "abm")
        var environment = ProcessEnvironment.current
        environment["DEMO_BIN"] = FileSafety.parent(of: SandboxHarness.agentbox)
        environment["XDG_STATE_HOME"] = state.path + "/state"
        environment["TERM"] = "dumb"
        let output = try ChildProcess.run(
            executable: SandboxHarness.repository + "/scripts/demo", arguments: [], environment: environment,
            timeout: .seconds(120))
        let text = output.standardOutputText + output.standardErrorText
        #expect(output.status == .exited(0), "\(text)")

        let lines = output.standardOutputText.split(separator: "\n")
        try #require(lines.count >= 3, "\(text)")
        let printed = String(lines[lines.count - 2])
        #expect(lines.last == "play it with: asciinema play \(printed)")
        let transcripts = state.path + "/state/agentbox/transcripts/"
        #expect(printed.hasPrefix(transcripts) && printed.hasSuffix(".cast"), "\(printed)")
        // The demo's own directory is gone; the transcript is not.
        let match = text.firstMatch(of: /\/tmp\/agentbox-demo\.[A-Za-z0-9]{6}/)
        let demoDirectory = try #require(match.map { String($0.output) }, "\(text)")
        #expect(!FileManager.default.fileExists(atPath: demoDirectory), "\(demoDirectory) is left behind")
        let cast = try #require(FileIO.read(printed), "no transcript at \(printed)")
        var info = stat()
        #expect(stat(printed, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let castText = String(decoding: cast, as: UTF8.self)
        #expect(castText.hasPrefix("{\"version\": 2") || castText.hasPrefix("{\"version\":2"), "\(castText.prefix(80))")
        #expect(castText.contains("REDACTED"), "\(castText)")
        // No value of the demo vault is in it.
        let vault = FileIO.readText(SandboxHarness.repository + "/profiles/demo/vault.env")
        for line in vault.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let value = line[line.index(after: equals)...].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            #expect(!castText.contains(value), "\(line[..<equals]) is in the kept transcript")
        }
    }
}
