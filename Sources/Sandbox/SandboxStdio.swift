/// What the agent's stdin, stdout and stderr are. Descriptors are the supervisor's (each above
/// 2, or nil to keep the one agentbox inherited); they are installed in the sandbox's outer
/// process, before any namespace, so init and agent inherit them.
public struct SandboxStdio: Sendable, Equatable, CustomStringConvertible {
    public var input: Int32?
    public var output: Int32?
    public var error: Int32?
    /// Whether stdin (a terminal) becomes the agent's controlling terminal after its `setsid`.
    public var controllingTerminal: Bool

    public init(input: Int32? = nil, output: Int32? = nil, error: Int32? = nil, controllingTerminal: Bool = false) {
        self.input = input
        self.output = output
        self.error = error
        self.controllingTerminal = controllingTerminal
    }

    public var description: String {
        func name(_ fd: Int32?) -> String { fd.map { "fd \($0)" } ?? "inherited" }
        return "stdin \(name(input)), stdout \(name(output)), stderr \(name(error))"
            + (controllingTerminal ? ", controlling terminal" : "")
    }
}

extension SandboxPlanner {
    /// Where the agent's terminal appears inside the sandbox: the supervisor's pty slave, bound
    /// as `/dev/console` (as container runtimes do), so `ttyname` finds it by device number.
    /// `/dev/tty` (bound from the host) reaches it as the controlling terminal.
    public static let terminalPath = "/dev/console"

    /// The mount operation that binds the pty slave at `hostPath` as `terminalPath`; goes after
    /// the `/dev` tmpfs of a plan.
    public static func terminalMount(hostPath: String) -> MountOperation {
        .bind(source: hostPath, target: terminalPath, readOnly: false, isFile: true, sourceInRoot: false)
    }
}
