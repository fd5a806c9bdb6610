import AgentboxCore
import Redaction
import TestSupport
import Testing

@testable import Agentbox

#if canImport(Glibc)
    import Glibc
#endif

/// The pure parts of the transcript and the teardown scrub.
struct TranscriptFormatTests {
    private func body(_ bytes: [UInt8], final: Bool = true) -> (String, Int) {
        var out: [UInt8] = []
        let held = CastFormat.appendJSONStringBody(bytes[...], into: &out, final: final)
        return (String(decoding: out, as: UTF8.self), held)
    }

    @Test func jsonStringEscapesControlsAndKeepsUTF8() {
        #expect(body(Array("a\"b\\c\r\n\t\u{1b}[0m\u{7f}é€😀".utf8)).0 == #"a\"b\\c\r\n\t\u001b[0m\u007fé€😀"#)
    }

    @Test(arguments: [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0x80]] as [[UInt8]])
    func invalidUTF8BecomesReplacementCharacters(_ bytes: [UInt8]) {
        let (text, held) = body([0x61] + bytes + [0x62])
        #expect(held == 0)
        #expect(text == "a" + String(repeating: "\u{FFFD}", count: bytes.count) + "b")
    }

    @Test func incompleteSequenceAtTheEndIsHeldForTheNextEvent() {
        let euro = Array("€".utf8)
        #expect(body([0x61] + euro.prefix(2), final: false) == ("a", 2))
        #expect(body([0x61] + euro.prefix(2), final: true) == ("a\u{FFFD}\u{FFFD}", 0))
    }

    @Test func eventLinesAreJSONArrays() {
        var line: [UInt8] = []
        _ = CastFormat.appendEvent(time: 1.5, kind: "o", data: Array("hi\n".utf8)[...], into: &line)
        #expect(String(decoding: line, as: UTF8.self) == "[1.500000, \"o\", \"hi\\n\"]\n")
        #expect(CastFormat.formatTime(0.0000004) == "0.000000")
        #expect(
            String(
                decoding: CastFormat.header(width: 80, height: 24, timestamp: 7, term: "xterm", shell: nil),
                as: UTF8.self)
                == "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 7, \"env\": {\"TERM\": \"xterm\"}}\n"
        )
    }

    @Test func writerSplitsAUTF8SequenceAcrossEventsWithoutBreakingIt() throws {
        let directory = try TemporaryDirectory(prefix: "abc")
        let path = directory.file("t.cast")
        let writer = try TranscriptWriter(path: path, width: 80, height: 24, term: nil, shell: nil)
        let euro = Array("€".utf8)
        writer.output([0x61, euro[0]])
        writer.output([euro[1], euro[2], 0x62])
        writer.finish()
        let lines = FileIO.readText(path).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[1].hasSuffix(", \"o\", \"a\"]"))
        #expect(lines[2].hasSuffix(", \"o\", \"€b\"]"))
    }

    @Test func keepSetSelectsCodexLogsOnly() throws {
        let text = String(decoding: FileIO.read(SandboxHarness.repository + "/sandbox/keep.txt") ?? [], as: UTF8.self)
        let keep = try KeepSet.parse(text)
        #expect(keep.keeps(".codex/sessions/2026/01/rollout-1.jsonl"))
        #expect(keep.keeps(".codex/log/codex-tui.log"))
        #expect(!keep.keeps(".codex/auth.json"))
        #expect(!keep.keeps(".bash_history"))
        #expect(throws: AgentboxError.self) { try KeepSet.parse("ok/**\n../escape\n") }
        #expect(throws: AgentboxError.self) { try KeepSet.parse("/etc/passwd") }
    }

    /// The last scan finds what an earlier step left (here: a file never redacted), counts it,
    /// and redacts the file in place.
    @Test func finalScanCountsAndRedactsLeftoverSecrets() throws {
        let directory = try TemporaryDirectory(prefix: "abs")
        let secret = "leftover-\(Crypto.randomToken(byteCount: 8))"
        let redactor = Redactor(secrets: [RedactionSecret(name: "S", value: Array(secret.utf8))])
        let dirty = try directory.write("dirty.jsonl", Array("a \(secret) b \(secret)\n".utf8))
        let clean = try directory.write("clean.jsonl", Array("nothing [REDACTED:S] here\n".utf8))
        let result = TeardownScrub.verify([dirty, clean], redactor: redactor)
        #expect(result.findings == 2)
        #expect(result.files == [dirty])
        #expect(FileIO.readText(dirty) == "a [REDACTED:S] b [REDACTED:S]\n")
        #expect(TeardownScrub.verify([dirty, clean], redactor: redactor).findings == 0)
    }

    /// Kept files are copied through the redactor; symbolic links are never followed.
    @Test func keptFilesAreRedactedAndLinksNotFollowed() throws {
        let home = try TemporaryDirectory(prefix: "abh")
        let out = try TemporaryDirectory(prefix: "abo")
        let secret = "kept-\(Crypto.randomToken(byteCount: 8))"
        let outside = try out.write("outside.txt", Array("outside \(secret)".utf8))
        try FileSafety.makePrivateDirectory(home.path + "/.codex/sessions")
        try home.write(".codex/sessions/a.jsonl", Array("{\"t\":\"\(secret)\"}\n".utf8))
        symlink(outside, home.path + "/.codex/sessions/link.jsonl")
        let redactor = Redactor(secrets: [RedactionSecret(name: "S", value: Array(secret.utf8))])
        let result = TeardownScrub.keepFiles(
            home: home.path, keep: KeepSet(patterns: [".codex/sessions/**"]),
            into: out.path + "/kept", redactor: redactor)
        #expect(result.kept == [out.path + "/kept/.codex/sessions/a.jsonl"])
        #expect(FileIO.readText(out.path + "/kept/.codex/sessions/a.jsonl") == "{\"t\":\"[REDACTED:S]\"}\n")
    }
}
