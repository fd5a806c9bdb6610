import AgentboxCore
import Policy

/// A request the router let through: the secret's proxy settings and the real credential.
public struct AuthorizedRoute: Sendable {
    public var spec: ProxySpec
    public var credential: SecretBytes
    public var placeholder: SecretBytes

    public init(spec: ProxySpec, credential: SecretBytes, placeholder: SecretBytes) {
        self.spec = spec
        self.credential = credential
        self.placeholder = placeholder
    }
}

/// One audit record per proxied request: never bodies, keys or query values.
public struct ProxyAuditEntry: Sendable, Equatable {
    public var leaseId: String
    public var secretName: String
    public var method: String
    public var path: String
    public var status: Int
    public var code: String?
    public var bytesIn: Int64
    public var bytesOut: Int64
    public var milliseconds: Int64
}

/// The broker's side of the proxy: which lease and secret a path names, and whether the
/// presented placeholder is that lease's (constant time) while the lease is active.
public protocol ProxyRouter: Sendable {
    func authorize(_ target: ProxyTarget, headers: [(name: String, value: String)]) -> Result<
        AuthorizedRoute, ProxyRefusal
    >
    func record(_ entry: ProxyAuditEntry)
}
