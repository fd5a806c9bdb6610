import SecretsRun

/// The one remote command devssh runs before forwarding: it makes the private runtime directory
/// (`/run/user/UID/agentbox` or `~/.agentbox/run`, mode 0700, owned by the login user), removes a
/// stale default socket left by a killed connection, and reports whether sshd accepted our
/// environment variables (sshd_config `AcceptEnv`).
///
/// It carries no secret: only paths and a probe value. It runs under `sh` because the login shell
/// may not be POSIX.
enum RemotePreparation {
    static let probeValue = "devssh-probe"

    static var command: String {
        let script = [
            "umask 077",
            "u=$(id -u)",
            "if [ -d /run/user/$u ] && [ -O /run/user/$u ]; then d=/run/user/$u/agentbox; else d=$HOME/.agentbox/run; fi",
            "mkdir -p \"$d\" || exit 3",
            "chmod 700 \"$d\" || exit 3",
            "[ -O \"$d\" ] || exit 4",
            "rm -f \"$d/\(RemoteRuntimeDirectory.socketName)\"",
            "echo \"dir=$d\"",
            "echo \"env=${\(RemoteRuntimeDirectory.nonceEnvironmentName):-missing}\"",
        ].joined(separator: "; ")
        return "exec sh -c '\(script)'"
    }

    struct Report: Equatable {
        var directory: String
        var environmentAccepted: Bool
    }

    static func parse(_ output: String) -> Report? {
        var directory: String?
        var accepted = false
        for line in output.split(separator: "\n") {
            if line.hasPrefix("dir=") { directory = String(line.dropFirst(4)) }
            if line == "env=\(probeValue)" { accepted = true }
        }
        guard let directory, directory.hasPrefix("/") else { return nil }
        return Report(directory: directory, environmentAccepted: accepted)
    }
}
