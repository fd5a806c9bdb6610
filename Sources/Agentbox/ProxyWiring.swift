import AgentboxCore
import BrokerProtocol
import Sandbox
import SecretsRun

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// How a lease's proxy endpoints reach the agent: one relay on 127.0.0.1:`port` (inside the
/// sandbox's network namespace with `proxy-only`, on the host's loopback with `host`), the base
/// URL variables, and config files for agents that do not read them from the environment.
struct ProxyWiring {
    /// The port the relay listens on inside a sandbox's own network namespace (always free there).
    static let sandboxPort: UInt16 = 18080

    let grant: LeaseGrant
    let proxySocket: String
    let port: UInt16

    /// The variables to add to the agent's environment: each endpoint's base URL.
    var baseURLVariables: [EnvironmentVariable] { ProxyRelay.baseURLVariables(grant, port: port) }

    /// The endpoint codex should use: the one behind `OPENAI_BASE_URL`, else the first.
    var codexEndpoint: ProxyEndpoint? {
        grant.proxies.first { $0.baseURLEnvironmentName == "OPENAI_BASE_URL" } ?? grant.proxies.first
    }

    /// `$HOME/.codex/config.toml`: a model provider whose base URL is the relay and whose key is
    /// the placeholder variable, so `codex` runs unmodified.
    var codexConfig: String? {
        guard let endpoint = codexEndpoint else { return nil }
        return """
            # Written by agentbox for this session: requests go through the laptop's credential proxy.
            # \(endpoint.secretName) holds a placeholder that only this session's proxy accepts.
            model_provider = "agentbox"

            [model_providers.agentbox]
            name = "agentbox credential proxy"
            base_url = "http://127.0.0.1:\(port)\(endpoint.pathPrefix)"
            env_key = "\(endpoint.secretName)"
            wire_api = "responses"

            """
    }

    /// Writes the agents' config files into the session home (owned by `owner` when given).
    func writeAgentConfig(home: String, owner: (uid: UInt32, gid: UInt32)?) throws(SystemError) {
        guard let config = codexConfig else { return }
        let directory = home + "/.codex"
        try valueOrErrno("mkdir \(directory)") { mkdir(directory, 0o700) }
        let path = directory + "/config.toml"
        let fd = try valueOrErrno("open \(path)") { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600) }
        defer { close(fd) }
        let bytes = Array(config.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw SystemError("write \(path)") }
            offset += written
        }
        if let owner {
            guard chown(directory, owner.uid, owner.gid) == 0, fchown(fd, owner.uid, owner.gid) == 0 else {
                throw SystemError("chown \(directory)")
            }
        }
    }
}
