import AgentboxCore
import BrokerProtocol
import CAgentboxSys

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// `secrets run`'s proxy endpoints: a relay process on `127.0.0.1:PORT` that forwards to the
/// forwarded proxy socket and lives exactly as long as the command (it gets SIGTERM when the
/// process that becomes the command exits). The command sees the base URL variables and the
/// placeholders; the real keys stay on the laptop.
enum BackgroundRelay {
    /// Starts the relay and returns the base URL variables to add to the command's environment.
    static func start(for grant: LeaseGrant, sessionSocket: String) throws(SecretsError) -> [EnvironmentVariable] {
        guard let socketPath = try ProxyRelay.proxySocketPath(grant, sessionSocket: sessionSocket) else { return [] }
        var port: UInt16 = 0
        let fd = ab_listen_loopback(0, &port)
        guard fd >= 0 else { throw .brokerUnreachable("cannot listen on 127.0.0.1 for the proxy relay: \(SystemError("listen"))") }
        defer { close(fd) }
        guard ab_spawn_relay(fd, socketPath) > 0 else {
            throw .brokerUnreachable("cannot start the proxy relay: \(SystemError("fork"))")
        }
        return ProxyRelay.baseURLVariables(grant, port: port)
    }
}
