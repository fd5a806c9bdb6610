import Agentbox
import AgentboxCore
import Redaction
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A whole agent session under a real terminal: real broker, `devssh --local`, `agentbox start`,
/// all on a pty this test owns. The agent prints its injected secret in several forms, runs a
/// full-screen program, reads a password with `read -s`, sees a window resize, writes a codex-style
/// session log, and exits 3.
@Suite(.serialized)
struct TranscriptTests {
    @Test func agentSessionOnTerminalLeavesNoSecretInOutputTranscriptOrKeptFiles() throws {
        let directory = try TemporaryDirectory(prefix: "abt")
        let binaries = FileSafety.parent(of: SandboxHarness.agentbox)
        let workdir = directory.path + "/work"
        mkdir(workdir, 0o755)
        // Random, so no other test output can contain it; non-ASCII, so JSON \u escaping differs.
        let secret = "pty-\(Crypto.randomToken(byteCount: 10))-é-\(Crypto.randomToken(byteCount: 4))"
        let vault = try directory.write("vault.env", Array("TOKEN=\(secret)\n".utf8))
        let policy = try directory.write(
            "policy.yaml",
            Array(
                """
                version: 1
                profiles:
                  pty-agent:
                    agent: true
                    allowedHosts: [testhost]
                    allowedCommands: ["/bin/bash *"]
                    ttl: 10m
                    requireApproval: false
                    network: none
                    secrets:
                      TOKEN: { from: "file://\(vault)#TOKEN", class: inject }
                """.utf8))
        let state = directory.path + "/state"
        let broker = try LocalBroker(policy: policy, in: directory, environment: [
            "XDG_STATE_HOME": state, "TERM": "xterm-256color", "LANG": "C.UTF-8",
            "AGENTBOX_KEEP_FILE": SandboxHarness.repository + "/sandbox/keep.txt",
        ])
        defer { broker.stop() }
        let (control, environment) = (broker.control, broker.environment)

        let script = #"""
            printf 'size:%s\n' "$(stty size)"
            printf 'tty:%s\n' "$(tty)"
            printf 'raw:%s\n' "$TOKEN"
            printf 'b64:%s\n' "$(printf '%s' "$TOKEN" | base64 -w0)"
            printf 'echo-b64:%s\n' "$(echo "$TOKEN" | base64 -w0)"
            printf 'color:\033[1;31m%s\033[0m\n' "$TOKEN"
            printf 'split-color:%s\033[32m%s\033[0m\n' "${TOKEN:0:9}" "${TOKEN:9}"
            python3 -c 'import json, os; print("json:" + json.dumps({"t": os.environ["TOKEN"]}))'
            mkdir -p ~/.codex/sessions/2026 ~/.codex/cache
            printf '{"type":"msg","text":"%s"}\n' "$TOKEN" > ~/.codex/sessions/2026/rollout-1.jsonl
            printf '%s\n' "$TOKEN" > ~/.codex/cache/not-kept.txt
            printf 'line one\n%s\nline three\n' "$TOKEN" > /tmp/page.txt
            LESS= less /tmp/page.txt
            printf 'password? '
            read -rs answer
            printf '\nlength:%s\n' "${#answer}"
            printf 'resize? '
            read -r line
            printf 'size:%s\n' "$(stty size)"
            exit 3
            """#
        let session = try PseudoTerminalProcess(
            executable: binaries + "/devssh",
            arguments: [
                "--broker", control, "--local", "testhost", "--", SandboxHarness.agentbox, "start", "pty-agent",
                "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir", workdir, "--grace", "0.2",
                "--", "/bin/bash", "-c", script,
            ],
            environment: environment, rows: 40, columns: 120)
        let logs = { "\(session.outputText.debugDescription)\n\(FileIO.readText(directory.path + "/broker.log"))" }

        // The full-screen pager shows the page (redacted); `q` leaves it.
        #expect(session.waitForOutput("line three"), "\(logs())")
        #expect(
            session.waitForOutput("\u{1b}[?1049h") || session.waitForOutput("\u{1b}[?47h"),
            "less did not switch screens: \(logs())")
        session.send("q")
        #expect(session.waitForOutput("password? "), "\(logs())")
        // While the session runs, `agentbox redact --from-session ID` gets its values from the
        // supervisor's control socket.
        let id =
            session.outputText.split(separator: " ").drop { $0 != "session" }.dropFirst().first.map(String.init) ?? ""
        let redact = { () throws -> ChildProcess.Output in
            try ChildProcess.run(
                executable: SandboxHarness.agentbox, arguments: ["redact", "--from-session", id],
                environment: environment, input: .bytes(Array("old log: \(secret) end\n".utf8)))
        }
        let live = try redact()
        #expect(
            live.status == .exited(0) && live.standardOutputText == "old log: [REDACTED:TOKEN] end\n",
            "\(live.status) \(live.standardErrorText)")
        session.send("hunter2-typed\r")
        #expect(session.waitForOutput("length:13"), "\(logs())")
        #expect(session.waitForOutput("resize? "), "\(logs())")
        session.resize(rows: 33, columns: 101)
        usleep(300_000)
        session.send("\r")
        let status = session.waitForExit(timeout: .seconds(30))
        #expect(status == .exited(3), "\(String(describing: status)) \(logs())")
        // Once it ended, the values are gone with it.
        let ended = try redact()
        #expect(ended.status == .exited(1) && ended.standardOutputText.isEmpty, "\(ended.standardErrorText)")
        #expect(casts(state).first == "\(id).cast")

        let shown = session.outputText
        #expect(shown.contains("size:40 120"), "\(logs())")
        #expect(shown.contains("size:33 101"), "the resize did not reach the agent: \(logs())")
        #expect(shown.contains("tty:/dev/console"), "\(logs())")
        #expect(shown.contains("raw:[REDACTED:TOKEN]"), "\(logs())")
        #expect(!shown.contains("hunter2-typed"), "read -s echoed: \(logs())")

        // No registered form of the secret on the terminal, in the transcript or the kept files.
        let forms = SecretForms.forms(of: Array(secret.utf8))
        let transcripts = state + "/agentbox/transcripts"
        let casts = casts(state)
        try #require(casts.count == 1, "\(FileIO.directoryEntries(transcripts)) \(logs())")
        let castPath = transcripts + "/" + casts[0]
        let cast = FileIO.read(castPath) ?? []
        let kept = transcripts + "/\(id).files/.codex/sessions/2026/rollout-1.jsonl"
        let keptBytes = FileIO.read(kept) ?? []
        #expect(
            !keptBytes.isEmpty,
            "the codex session log was not kept: \(FileIO.directoryEntries(transcripts + "/\(id).files"))")
        #expect(String(decoding: keptBytes, as: UTF8.self).contains("[REDACTED:TOKEN]"))
        #expect(FileIO.read(transcripts + "/\(id).files/.codex/cache/not-kept.txt") == nil)
        // Escapes removed first: a secret split by a colour escape must not survive either.
        for (name, bytes) in [("terminal", session.output), ("transcript", cast), ("kept file", keptBytes)] {
            let plain = withoutEscapes(bytes)
            let leaked = forms.filter { contains(bytes, $0) || contains(plain, $0) }
            #expect(leaked.isEmpty, "\(leaked.count) form(s) of the secret in the \(name)")
        }
        // The terminal and transcript still show the other forms' lines (redacted, not dropped).
        for label in ["b64:", "echo-b64:", "color:", "split-color:", "json:"] {
            #expect(shown.contains(label), "\(label) missing: \(logs())")
        }

        // The transcript: 0600, valid asciinema v2 (every line JSON, header version 2), with the resize.
        var info = stat()
        #expect(stat(castPath, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let check = try ChildProcess.run(
            executable: "/usr/bin/python3",
            arguments: [
                "-c",
                """
                import json, sys
                lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
                header = json.loads(lines[0])
                assert header["version"] == 2 and header["width"] == 120 and header["height"] == 40, header
                assert header["env"]["TERM"] == "xterm-256color", header
                events = [json.loads(line) for line in lines[1:]]
                assert all(e[1] in ("o", "r") and isinstance(e[2], str) for e in events)
                assert any(e[1] == "r" and e[2] == "101x33" for e in events), "no resize event"
                assert [e[0] for e in events] == sorted(e[0] for e in events)
                print("ok", len(events))
                """, castPath,
            ], environment: ["PATH": SandboxHarness.path])
        #expect(check.status == .exited(0) && check.standardOutputText.hasPrefix("ok"), "\(check.text)")
        if access("/usr/bin/asciinema", X_OK) == 0 {
            // `asciinema cat` reads keys from /dev/tty: run it on a terminal of its own.
            let replay = try PseudoTerminalProcess(
                executable: "/usr/bin/asciinema", arguments: ["cat", castPath],
                environment: ["PATH": SandboxHarness.path, "HOME": directory.path, "LANG": "C.UTF-8", "TERM": "xterm"])
            #expect(replay.waitForExit(timeout: .seconds(30)) == .exited(0), "\(replay.outputText.debugDescription)")
            #expect(replay.outputText.contains("raw:[REDACTED:TOKEN]"))
        }

        // The session directory is gone; the broker audited a clean scrub and status 3.
        #expect(!hostFileExists(SessionStore(environment: environment).sessionDirectory(id)))
        let audit = FileIO.readText(directory.path + "/audit.log")
        let ending = audit.split(separator: "\n").first {
            $0.contains("\"event\":\"lease-end\"") && $0.contains("\"ended\":\"exit\"")
        }
        #expect(ending?.contains("\"exitStatus\":3") == true, "\(audit)")
        #expect(ending?.contains("\"scrubFindings\":0") == true, "\(audit)")
        #expect(!contains(Array(audit.utf8), Array(secret.utf8)))
    }

    private func casts(_ state: String) -> [String] {
        FileIO.directoryEntries(state + "/agentbox/transcripts").filter { $0.hasSuffix(".cast") }
    }

    /// `bytes` without CSI escape sequences (ESC [ parameters final-byte).
    private func withoutEscapes(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x1B, index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "[") {
                index += 2
                while index < bytes.count, !(0x40...0x7E).contains(bytes[index]) { index += 1 }
                index += 1
                continue
            }
            result.append(bytes[index])
            index += 1
        }
        return result
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
        }
        return false
    }
}
