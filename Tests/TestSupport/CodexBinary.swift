import AgentboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// The real codex CLI, from the `openai-codex-cli-bin` wheel (`codex_cli_bin/bin/codex`) that
/// `scripts/ensure-python-packages` installs. Tests copy it somewhere the agent can execute it:
/// the wheel usually sits under a home no other account can traverse.
public enum CodexBinary {
    private static let located: String? = {
        let output = try? ChildProcess.run(
            executable: "/usr/bin/env",
            arguments: ["python3", "-c", "import codex_cli_bin; print(codex_cli_bin.bundled_codex_path())"],
            environment: ProcessEnvironment.current)
        let path = output?.standardOutputText.split(separator: "\n").first.map(String.init) ?? ""
        return path.isEmpty ? nil : path
    }()

    /// The installed binary's path; throws (the test fails) when the wheel is missing.
    public static func path() throws -> String {
        guard let located else {
            throw FixtureError("codex is not installed: run scripts/ensure-python-packages (pip: openai-codex-cli-bin)")
        }
        return located
    }

    /// Copies the binary to `target` (mode 0755, owned by `owner` when given) and returns `target`.
    @discardableResult
    public static func copy(to target: String, owner: (uid: UInt32, gid: UInt32)? = nil) throws -> String {
        let output = try ChildProcess.run(
            executable: "/bin/cp", arguments: [try path(), target], environment: [:],
            timeout: .seconds(120))
        guard output.status.isSuccess else { throw FixtureError("cp codex \(target): \(output.standardErrorText)") }
        guard chmod(target, 0o755) == 0 else { throw FixtureError("chmod \(target): \(SystemError("chmod"))") }
        if let owner, chown(target, owner.uid, owner.gid) != 0 {
            throw FixtureError("chown \(target): \(SystemError("chown"))")
        }
        return target
    }
}
