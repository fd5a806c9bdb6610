import AgentboxCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The whole remote path with a real broker (`secret-broker serve`), `devssh --local` and
/// `agentbox start --network proxy-only`: the agent reaches a local model API only through the
/// relay in its network namespace and the laptop's proxy, and never holds the real key.
@Suite(.serialized)
struct AgentProxyTests {
    struct Chain {
        let directory: TemporaryDirectory
        let upstream: FakeUpstream
        let realKey: String
        let workdir: String
        let control: String
        let environment: [String: String]
        let broker: LocalBroker

        init() throws {
            directory = try TemporaryDirectory(prefix: "abap")
            realKey = "sk-real-" + Crypto.randomToken(byteCount: 16)
            upstream = try FakeUpstream(expectedKey: realKey)
            workdir = directory.path + "/work"
            mkdir(workdir, 0o755)
            let vault = try directory.write("vault.env", Array("OPENAI=\(realKey)\nGH=ghp-inject-value\n".utf8))
            let policy = try directory.write("policy.yaml", Array("""
                version: 1
                profiles:
                  github-agent:
                    agent: true
                    allowedHosts: [testhost]
                    allowedCommands: ["/bin/sh *"]
                    ttl: 1h
                    requireApproval: false
                    network: proxy-only
                    secrets:
                      GITHUB_TOKEN: { from: "file://\(vault)#GH", class: inject }
                      OPENAI_API_KEY:
                        from: file://\(vault)#OPENAI
                        class: proxy
                        proxy:
                          upstream: http://127.0.0.1:\(upstream.port)/v1
                          baseUrlEnv: OPENAI_BASE_URL
                          header: "Authorization: Bearer {secret}"
                          allow: ["POST /responses", "GET /models", "POST /chat/completions"]
                          allowPrivateUpstream: true
                """.utf8))
            broker = try LocalBroker(policy: policy, in: directory)
            environment = broker.environment
            control = broker.control
        }

        /// `devssh --local testhost -- agentbox start github-agent --network proxy-only -- COMMAND`.
        /// The agent's output unmasked (`--no-masking`): these tests inspect the placeholder and base
        /// URL the agent sees, which the terminal redactor would otherwise hide.
        func agent(_ command: [String], timeout: Duration = .seconds(120)) throws -> ChildProcess.Output {
            try ChildProcess.run(
                executable: FileSafety.parent(of: SandboxHarness.agentbox) + "/devssh",
                arguments: ["--broker", control, "--local", "testhost", "--", SandboxHarness.agentbox, "start", "github-agent",
                            "--seccomp-profile", SandboxHarness.seccompProfile, "--workdir", workdir, "--grace", "0.2",
                            "--network", "proxy-only", "--no-masking", "--"] + command,
                environment: environment, timeout: timeout)
        }

        var auditText: String { FileIO.readText(directory.path + "/audit.log") }

        func stop() { broker.stop() }
    }

    @Test func agentReachesModelAPIOnlyThroughProxyAndNeverHoldsTheKey() throws {
        let chain = try Chain()
        defer { chain.stop() }
        let script = """
            echo "base=$OPENAI_BASE_URL"
            case "$OPENAI_API_KEY" in abx-*) echo placeholder-ok ;; esac
            test "$GITHUB_TOKEN" = ghp-inject-value && echo inject-ok
            python3 -c '
            import os, urllib.request
            request = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=b"{}",
                headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"], "Content-Type": "application/json"})
            print(urllib.request.urlopen(request).read().decode())'
            echo "--- environ"; tr '\\0' '\\n' < /proc/self/environ
            echo "--- files"; find "$HOME" /tmp . -type f -size -1M -exec cat {} + 2>/dev/null; echo "--- end"
            python3 -c 'import urllib.request; urllib.request.urlopen("http://1.1.1.1/", timeout=2)' 2>/dev/null || echo no-direct-network
            """
        let output = try chain.agent(["/bin/sh", "-c", script])
        let text = output.standardOutputText + output.standardErrorText
        #expect(output.status.isSuccess, "\(text) \(FileIO.readText(chain.directory.path + "/broker.log"))")
        #expect(text.contains("base=http://127.0.0.1:18080/p/ls-"), "\(text)")
        #expect(text.contains("placeholder-ok") && text.contains("inject-ok"), "\(text)")
        #expect(text.contains("Hello") && text.contains("upstream"), "\(text)")
        // What the agent can see of itself and its files: the placeholder, never the key.
        #expect(text.contains("--- environ") && text.contains("OPENAI_API_KEY=abx-") && text.contains("--- end"), "\(text)")
        #expect(text.contains("no-direct-network"), "\(text)")
        #expect(!text.contains(chain.realKey))
        #expect(chain.upstream.requestLog.contains("Bearer \(chain.realKey)"))
        #expect(!chain.auditText.contains(chain.realKey))
        #expect(chain.auditText.contains("\"event\":\"proxy\""))
    }

    /// CI installs the wheel (scripts/ensure-python-packages); without it this test fails.
    @Test func codexCompletesATurnThroughTheProxy() throws {
        let chain = try Chain()
        defer { chain.stop() }
        // The real home (and the wheel under it) is not visible in the sandbox: codex goes into the working tree.
        let codex = chain.workdir + "/codex"
        try CodexBinary.copy(to: codex)
        let output = try chain.agent(
            ["/bin/sh", "-c", "\(codex) exec --skip-git-repo-check -m gpt-test 'say hello' ; echo codex-exit=$?; cat \"$HOME/.codex/config.toml\""],
            timeout: .seconds(180))
        let text = output.standardOutputText + output.standardErrorText
        #expect(text.contains("Hello from the fake Responses API"), "\(text)")
        #expect(text.contains("codex-exit=0"), "\(text)")
        #expect(text.contains("env_key = \"OPENAI_API_KEY\""), "\(text)")
        #expect(!text.contains(chain.realKey))
        #expect(chain.upstream.requestLog.contains("\"path\": \"/v1/responses\""))
        #expect(chain.upstream.requestLog.contains("Bearer \(chain.realKey)"))
        #expect(!chain.upstream.requestLog.contains("abx-"))
    }
}
