import AgentboxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Where the forwarded broker socket lives on the remote box: `/run/user/UID/agentbox` when the
/// login manager made `/run/user/UID` for us, else `~/.agentbox/run`. Both are 0700.
///
/// devssh computes the same directory on the remote (its preparation step) before it forwards.
public enum RemoteRuntimeDirectory {
    public static let socketName = "broker.sock"
    public static let socketEnvironmentName = "SECRETS_SOCKET"
    public static let nonceEnvironmentName = "AGENTBOX_SESSION_NONCE"

    public static func path(environment: [String: String]) -> String {
        let uid = getuid()
        let runUser = "/run/user/\(uid)"
        var info = stat()
        if stat(runUser, &info) == 0, info.st_uid == uid, info.st_mode & S_IFMT == S_IFDIR {
            return runUser + "/agentbox"
        }
        return StandardLocations(environment: environment).home + "/.agentbox/run"
    }

    /// `SECRETS_SOCKET` if set, else the default socket in the runtime directory.
    public static func socketPath(environment: [String: String]) -> String {
        if let explicit = environment[socketEnvironmentName], !explicit.isEmpty { return explicit }
        return path(environment: environment) + "/" + socketName
    }
}
