import AgentboxCore
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Runs commands inside a real sandbox (`agentbox sandbox`) as an unprivileged account this
/// fixture creates, in a working tree owned by it (a git repository), with the probe compiled in.
final class SandboxHarness: @unchecked Sendable {
    static let repository: String = {
        var path = #filePath
        for _ in 0..<3 { path = FileSafety.parent(of: path) }
        return path
    }()
    static let seccompProfile = repository + "/sandbox/seccomp-default.txt"
    static let agentbox: String = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = String(decoding: buffer[..<max(length, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return FileSafety.parent(of: exe) + "/agentbox"
    }()
    static let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    let account: TestAccount
    let workdir: TemporaryDirectory
    var probe: String { workdir.path + "/probe" }

    init() throws {
        account = try TestAccount()
        workdir = try TemporaryDirectory(prefix: "abw")
        try run("/usr/bin/cc", ["-O0", "-o", probe, Self.repository + "/Tests/SandboxTests/Probes/probe.c"])
        guard chown(workdir.path, account.uid, account.gid) == 0, chown(probe, account.uid, account.gid) == 0 else {
            throw FixtureError("chown the workdir")
        }
        chmod(workdir.path, 0o755)
        try asAccount("/usr/bin/git", ["-C", workdir.path, "init", "-q"])
    }

    deinit {
        account.remove()
        workdir.remove()
    }

    /// `argv` run by the account, with a minimal environment.
    @discardableResult
    func asAccount(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) throws -> ChildProcess.Output {
        try ChildProcess.run(
            executable: "/usr/bin/setpriv",
            arguments: ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--", executable] + arguments,
            environment: ["HOME": account.home, "PATH": Self.path, "LC_ALL": "C", "USER": account.name],
            timeout: timeout)
    }

    /// `agentbox sandbox -- COMMAND...` as the account in the workdir.
    func sandbox(_ command: [String], network: String = "none", timeout: Duration = .seconds(60)) throws -> ChildProcess.Output {
        try asAccount(Self.agentbox, ["sandbox", "--quiet", "--seccomp-profile", Self.seccompProfile, "--workdir", workdir.path,
                                      "--network", network, "--"] + command, timeout: timeout)
    }

    /// The probe in `mode`, inside the sandbox.
    func probe(_ arguments: String...) throws -> ChildProcess.Output {
        try sandbox([probe] + arguments)
    }

    private func run(_ executable: String, _ arguments: [String]) throws {
        let output = try ChildProcess.run(executable: executable, arguments: arguments, environment: ["PATH": Self.path])
        guard output.status.isSuccess else { throw FixtureError("\(executable): \(output.standardErrorText)") }
    }
}

extension ChildProcess.Output {
    var text: String { standardOutputText + standardErrorText }
}
