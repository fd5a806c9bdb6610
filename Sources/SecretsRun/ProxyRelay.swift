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

/// The remote end of the credential proxy: a listener on `127.0.0.1:PORT` whose every
/// connection is relayed, byte for byte, to the forwarded proxy socket. One relay serves all of
/// a lease's proxy endpoints (they differ by path prefix).
public final class ProxyRelay: @unchecked Sendable {
    public let port: UInt16
    public let socketPath: String
    private let listenFD: Int32
    private var stopped = false

    /// Relays connections accepted on an already-listening socket (e.g. one made inside a
    /// sandbox's network namespace) whose port is `port`.
    public init(listeningOn fd: Int32, port: UInt16, socketPath: String) {
        self.listenFD = fd
        self.port = port
        self.socketPath = socketPath
        startDetachedThread { [fd, socketPath] in _ = ab_relay_serve(fd, socketPath) }
    }

    /// Listens on 127.0.0.1 (any free port) in this process's network namespace.
    public convenience init(socketPath: String) throws(SystemError) {
        var bound: UInt16 = 0
        let fd = ab_listen_loopback(0, &bound)
        guard fd >= 0 else { throw SystemError("listen on 127.0.0.1") }
        self.init(listeningOn: fd, port: bound, socketPath: socketPath)
    }

    /// Stops accepting; connections in flight finish on their own.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    deinit { stop() }

    /// The base URL variables of a lease's proxy endpoints, for a relay on `port`.
    public static func baseURLVariables(_ grant: LeaseGrant, port: UInt16) -> [EnvironmentVariable] {
        grant.proxies.map {
            EnvironmentVariable(name: $0.baseURLEnvironmentName, value: Array("http://127.0.0.1:\(port)\($0.pathPrefix)".utf8))
        }
    }

    /// Where the lease's proxy socket is: `grant.proxySocket` beside the session socket the lease
    /// was asked on. Nil when the lease has no proxies; a name with a `/` is a protocol violation.
    public static func proxySocketPath(_ grant: LeaseGrant, sessionSocket: String) throws(SecretsError) -> String? {
        guard !grant.proxies.isEmpty else { return nil }
        guard let name = grant.proxySocket, !name.isEmpty, !name.contains("/"), name != "..", name != "." else {
            throw .protocolViolation("the lease has proxy endpoints but no valid proxy socket name")
        }
        for endpoint in grant.proxies {
            guard EnvironmentName.isValid(endpoint.baseURLEnvironmentName), endpoint.pathPrefix.hasPrefix("/p/"),
                endpoint.pathPrefix.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
            else { throw .protocolViolation("invalid proxy endpoint for \(endpoint.secretName)") }
        }
        var directory = sessionSocket
        if let slash = directory.lastIndex(of: "/") { directory = String(directory[..<slash]) } else { directory = "." }
        return directory + "/" + name
    }
}
