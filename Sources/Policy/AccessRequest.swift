/// What the remote asks for. Everything except `host` is a claim of the remote wrapper and is
/// treated as untrusted input: anything malformed is denied, never trusted or crashed on.
public struct AccessRequest: Sendable, Equatable {
    /// The host the laptop connected to, from the session `devssh` registered (trusted).
    public var host: String
    /// The remote user name the wrapper reports.
    public var remoteUser: String
    /// The profile asked for.
    public var profile: String
    /// The working directory, as an absolute canonical path (`realpath`).
    public var cwd: String
    /// The command to run, argv[0] as typed.
    public var argv: [String]
    /// The secret names asked for; empty asks for the profile's whole bundle.
    public var requestedNames: [String]
    /// Whether the request comes from `agentbox start` (true) or `secrets run` (false).
    public var agent: Bool
    /// A shorter lifetime the request asks for (e.g. from the repository's `.secrets.yaml`); the
    /// grant never lasts longer than the profile's `ttl`.
    public var requestedTTL: Duration?

    public init(
        host: String, remoteUser: String, profile: String, cwd: String, argv: [String],
        requestedNames: [String] = [], agent: Bool = false, requestedTTL: Duration? = nil
    ) {
        self.host = host
        self.remoteUser = remoteUser
        self.profile = profile
        self.cwd = cwd
        self.argv = argv
        self.requestedNames = requestedNames
        self.agent = agent
        self.requestedTTL = requestedTTL
    }
}
