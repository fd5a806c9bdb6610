import AgentboxCore

/// Where the laptop-side broker keeps its files, by convention (XDG on Linux, ~/Library on macOS).
public struct BrokerPaths: Sendable {
    public let locations: StandardLocations

    public init(environment: [String: String] = ProcessEnvironment.current) {
        locations = StandardLocations(environment: environment)
    }

    /// `$XDG_RUNTIME_DIR/secret-broker`, mode 0700.
    public var runtimeDirectory: String { locations.runtimeDirectory + "/secret-broker" }
    /// The control socket (`SECRET_BROKER_SOCKET` overrides it for clients).
    public var controlSocket: String {
        if let explicit = locations.environment["SECRET_BROKER_SOCKET"], !explicit.isEmpty { return explicit }
        return runtimeDirectory + "/control.sock"
    }
    public var sessionDirectory: String { runtimeDirectory + "/sessions" }
    /// `$XDG_CONFIG_HOME/secret-broker/policy.yaml`.
    public var policyFile: String { locations.configHome + "/secret-broker/policy.yaml" }
    /// `$XDG_STATE_HOME/secret-broker/audit.log`.
    public var auditLog: String { locations.stateHome + "/secret-broker/audit.log" }
}
