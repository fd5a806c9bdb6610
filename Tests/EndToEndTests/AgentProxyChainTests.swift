import AgentboxCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real codex CLI over the whole chain: a broker with a `pass` vault on the laptop side,
/// `devssh` through a real sshd on loopback, `agentbox start github-agent --network proxy-only`
/// on the remote side as an unprivileged account, and a local Responses API (SSE) that answers
/// only the real key. The agent holds a placeholder; the key never leaves the laptop.
@Suite(.serialized)
struct AgentProxyChainTests {
    @Test func codexCompletesATurnOverSSHWhileOnlyTheLaptopHoldsTheKey() throws {
        let chain = try AgentChain()
        defer { chain.stop() }
        let output = try chain.world.run(
            chain.agentboxStart(["codex", "exec", "--skip-git-repo-check", "-m", "gpt-test", "'say hello'"]),
            timeout: .seconds(240))
        let text = output.standardOutputText + output.standardErrorText
        #expect(output.status.isSuccess, "\(chain.redacted(text)) \(chain.redacted(chain.world.broker.log))")
        #expect(text.contains("Hello from the fake Responses API"), "\(chain.redacted(text))")
        // The upstream saw the real key, and never the placeholder.
        let log = chain.upstream.requestLog
        #expect(log.contains("\"path\": \"/v1/responses\""), "\(chain.redacted(log))")
        #expect(log.contains("Bearer \(chain.realKey)"))
        #expect(!log.contains("abx-"), "the placeholder reached the upstream")
        #expect(
            chain.world.broker.auditLines.contains {
                $0.contains("\"event\":\"proxy\"") && $0.contains("\"path\":\"/responses\"")
                    && $0.contains("\"status\":200")
            }, "\(chain.world.broker.auditLines)")
        #expect(chain.placesHoldingTheKey() == [])
    }

    /// What the agent can read of itself after a codex turn: its environment, every file written
    /// since the session began anywhere it can see (codex's transcript and config included), and
    /// the audit log on the laptop. None holds the real key, raw or base64.
    @Test func agentEnvironmentFilesAndTranscriptHoldOnlyThePlaceholder() throws {
        let chain = try AgentChain()
        defer { chain.stop() }
        let script = """
            codex exec --skip-git-repo-check -m gpt-test 'say hello' >/dev/null 2>&1; echo codex-exit=$?
            echo '--- environ'; tr '\\0' '\\n' </proc/self/environ
            echo '--- files'
            find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type f -newer "$PWD/.session-start" \\
                -size -4M -readable -print -exec cat {} \\; 2>/dev/null
            echo '--- end'
            """
        let output = try chain.world.run(
            chain.agentboxStart(["/bin/sh", "-c", shellQuoted(script)]), timeout: .seconds(240))
        let text = output.standardOutputText + output.standardErrorText
        #expect(output.status.isSuccess, "\(chain.redacted(text))")
        #expect(text.contains("codex-exit=0"), "\(chain.redacted(text))")
        #expect(text.contains("OPENAI_API_KEY=abx-"), "\(chain.redacted(text))")
        #expect(text.contains("OPENAI_BASE_URL=http://127.0.0.1:18080/p/ls-"), "\(chain.redacted(text))")
        // The scan did read what codex wrote: its config and the transcript of the turn.
        #expect(text.contains("/.codex/config.toml") && text.contains("env_key = \"OPENAI_API_KEY\""))
        #expect(
            text.contains("/.codex/sessions/") && text.contains("Hello from the fake Responses API"),
            "\(chain.redacted(text))")
        #expect(text.contains("--- end"))
        for (form, needle) in chain.keyForms {
            #expect(!text.contains(needle), "the real key (\(form)) is readable inside the agent")
        }
        #expect(chain.upstream.requestLog.contains("Bearer \(chain.realKey)"))
        #expect(chain.placesHoldingTheKey() == [])
    }
}

/// A `RemoteWorld` (pass vault, sshd, test account) plus what an agent session over it needs:
/// a fake model upstream that accepts only the real key, `agentbox` and the seccomp profile
/// where the account can read them, and a working tree with `codex` on its `PATH`.
final class AgentChain: @unchecked Sendable {
    let realKey = "sk-real-" + Crypto.randomToken(byteCount: 24)
    let upstream: FakeUpstream
    let world: RemoteWorld
    let agentbox: String
    let seccompProfile: String
    /// The working tree (remote, owned by the account) and the directory holding its `codex`.
    let workdir: String
    let codexDirectory: String

    init() throws {
        let key = realKey
        let upstream = try FakeUpstream(expectedKey: key)
        self.upstream = upstream
        world = try RemoteWorld(
            usePass: true,
            setUpLaptop: { _, pass in
                guard let pass else { throw FixtureError("no pass store") }
                // pass drops the one trailing newline it stores.
                try pass.insert(path: "openai/api-key", value: Array(key.utf8) + [0x0A])
            },
            policy: { names in
                """
                version: 1
                profiles:
                  github-agent:
                    agent: true
                    allowedHosts: [\(RemoteWorld.hostAlias)]
                    allowedRemoteUsers: [\(names.user)]
                    allowedCommands: ["codex *", "/bin/sh *"]
                    ttl: 1h
                    requireApproval: false
                    network: proxy-only
                    secrets:
                      OPENAI_API_KEY:
                        from: pass://openai/api-key
                        class: proxy
                        proxy:
                          upstream: http://127.0.0.1:\(upstream.port)/v1
                          baseUrlEnv: OPENAI_BASE_URL
                          header: "Authorization: Bearer {secret}"
                          allow: ["POST /responses", "GET /models"]
                          allowPrivateUpstream: true

                """
            })
        do {
            agentbox = try BuiltProducts.copy("agentbox", into: world.binaries.path)
            seccompProfile = world.binaries.file("seccomp-default.txt")
            guard let profile = FileIO.read(Self.repository + "/sandbox/seccomp-default.txt") else {
                throw FixtureError("cannot read sandbox/seccomp-default.txt")
            }
            try FileIO.write(seccompProfile, profile, mode: 0o644)
            try world.account.run(agentbox, ["--help"])
            workdir = world.account.home + "/work/agent"
            codexDirectory = workdir + "/bin"
            let owner = (uid: world.account.uid, gid: world.account.gid)
            for directory in [workdir, codexDirectory] {
                guard mkdir(directory, 0o755) == 0, chown(directory, owner.uid, owner.gid) == 0 else {
                    throw FixtureError("mkdir \(directory): \(SystemError("mkdir"))")
                }
            }
            // The sandbox shows the working tree, not the wheel under root's home.
            try CodexBinary.copy(to: codexDirectory + "/codex", owner: owner)
            try world.writeRemoteFile("work/agent/.session-start", "")
        } catch {
            world.stop()
            throw error
        }
    }

    static let repository: String = {
        var path = #filePath
        for _ in 0..<3 { path = FileSafety.parent(of: path) }
        return path
    }()

    /// The remote shell command: from the working tree, with `codex` on `PATH`,
    /// `agentbox start github-agent --network proxy-only -- COMMAND` (words already quoted), its
    /// output unmasked (`--no-masking`): the tests look at the placeholder the agent holds, which
    /// the terminal redactor would otherwise hide. The transcript stays redacted.
    func agentboxStart(_ command: [String]) -> String {
        "cd \(workdir) && PATH=\(codexDirectory):$PATH \(agentbox) start github-agent --seccomp-profile \(seccompProfile)"
            + " --grace 0.2 --network proxy-only --no-masking -- " + command.joined(separator: " ")
    }

    /// The key as it could show up: raw and in its base64 forms (any alignment, both alphabets).
    var keyForms: [(String, String)] {
        var forms = [("raw", realKey)]
        let bytes = Array(realKey.utf8)
        for shift in 0..<3 {
            let padded = [UInt8](repeating: 0, count: shift) + bytes
            let encoded = Array(base64(padded).utf8)
            // The characters fully determined by the key's own bytes.
            let core = String(decoding: encoded[((shift * 8 + 5) / 6)..<((shift + bytes.count) * 8 / 6)], as: UTF8.self)
            forms.append(("base64 at offset \(shift)", core))
            forms.append(
                (
                    "base64url at offset \(shift)",
                    core.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                ))
        }
        return forms
    }

    /// Every place on both sides that holds the key (`RemoteWorld.placesHolding`). The codex copy
    /// is removed first: it is ours, and scanning its 300 MB would take the test's whole budget.
    func placesHoldingTheKey() -> [String] {
        unlink(codexDirectory + "/codex")
        return keyForms.flatMap { form, needle in
            world.placesHolding(Array(needle.utf8)).map { "\($0) (\(form))" }
        }
    }

    /// `text` with the key replaced, for failure messages.
    func redacted(_ text: String) -> String {
        text.replacingOccurrences(of: realKey, with: "<real key>")
    }

    func stop() {
        world.stop()
    }
}

/// `text` as one single-quoted word for a POSIX shell.
private func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

private func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    var index = 0
    while index < bytes.count {
        let chunk = Array(bytes[index..<min(index + 3, bytes.count)]) + [0, 0]
        let n = UInt32(chunk[0]) << 16 | UInt32(chunk[1]) << 8 | UInt32(chunk[2])
        // The last group is zero-filled, not padded: callers take only fully determined characters.
        out += [n >> 18, n >> 12, n >> 6, n].map { alphabet[Int($0 & 63)] }
        index += 3
    }
    return String(decoding: out, as: UTF8.self)
}
