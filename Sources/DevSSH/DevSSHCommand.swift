import AgentboxCore
import BrokerControl

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// `devssh [devssh options] [ssh options] HOST [command]`.
public enum DevSSHCommand {
    public static let usage = """
        usage: devssh [--broker SOCKET] [ssh options] HOST [COMMAND [ARGS...]]
               devssh [--broker SOCKET] --local NAME -- COMMAND [ARGS...]
               devssh --help

        Connects to HOST like ssh(1), with a session of the laptop's secret-broker attached:
        the session is registered with the broker (the host is the name you typed), the
        session's socket is forwarded to the remote (/run/user/UID/agentbox/ or
        ~/.agentbox/run/, mode 0700), and the remote shell receives AGENTBOX_SESSION_NONCE and
        SECRETS_SOCKET through ssh's SendEnv, never through argv or a file. 'secrets run' on the
        remote uses them. When ssh exits, the session ends and its sockets are removed (the
        remote default broker.sock is replaced by the next connection).

          --broker SOCKET   the broker's control socket
                            (default: $XDG_RUNTIME_DIR/secret-broker/control.sock,
                             or $SECRET_BROKER_SOCKET)
          --ssh PATH        the ssh client to run (default: ssh on PATH)
          --local NAME      no ssh: register a session for host NAME and run COMMAND on this
                            machine with the session's socket and nonce (demos, benchmarks,
                            trying a policy)

        All other options go to ssh, except -M -S -O -f -N -G -W -Q -V, which devssh uses itself.

        The remote sshd needs:  AcceptEnv AGENTBOX_SESSION_NONCE SECRETS_SOCKET
        and should have:       StreamLocalBindUnlink yes

        Exit status: ssh's own; 64 usage error; 69 the broker is unreachable; 78 the remote
        could not be prepared; 127 no ssh client (none on PATH, or --ssh names none); 255 ssh
        failed to connect.
        """

    public static func main(_ arguments: [String]) -> Int32 {
        StandardDescriptors.ensureOpen()
        var args = arguments
        var brokerSocket: String?
        var sshPath: String?
        var localName: String?
        let environment = ProcessEnvironment.current
        while let first = args.first, first.hasPrefix("--"), first != "--" {
            args.removeFirst()
            switch first {
            case "--help":
                print(usage)
                return 0
            case "--broker", "--ssh", "--local":
                guard let value = args.first else { return fail(.usage("\(first) needs a value")) }
                args.removeFirst()
                switch first {
                case "--broker": brokerSocket = value
                case "--ssh": sshPath = value
                default: localName = value
                }
            default:
                return fail(.usage("unknown option \(first)"))
            }
        }
        if let localName {
            let broker = ControlClient(socketPath: brokerSocket ?? BrokerPaths(environment: environment).controlSocket)
            guard args.first == "--", args.count > 1 else { return fail(.usage("--local needs -- COMMAND")) }
            do {
                return try LocalSession(host: localName, broker: broker, environment: environment)
                    .run(Array(args.dropFirst()))
            } catch {
                return fail(error)
            }
        }
        if args == ["-h"] {
            print(usage)
            return 0
        }
        if args.isEmpty {
            writeStandardError(usage + "\n")
            return ExitCode.usage.rawValue
        }
        let parsed: SSHArguments
        do {
            parsed = try SSHArguments.parse(args)
        } catch {
            return fail(.usage(error.message))
        }
        guard let ssh = ChildProcess.find(executable: sshPath ?? "ssh", inPath: environment["PATH"]) else {
            return fail(.sshNotFound(sshNotFoundMessage(sshPath, path: environment["PATH"])))
        }
        let broker = ControlClient(socketPath: brokerSocket ?? BrokerPaths(environment: environment).controlSocket)
        let session = DevSSHSession(arguments: parsed, sshExecutable: ssh, broker: broker, environment: environment,
                                    progress: { writeStandardError("devssh: \($0)\n") })
        signal(SIGINT, SIG_IGN)
        signal(SIGQUIT, SIG_IGN)
        do {
            return try session.run()
        } catch {
            return fail(error)
        }
    }

    /// What to say when there is no ssh client to run, and how to give devssh one.
    static func sshNotFoundMessage(_ sshPath: String?, path: String?) -> String {
        let searched = path.map { "on PATH (\($0))" } ?? "(PATH is not set)"
        guard let sshPath else {
            return "ssh not found: no executable ssh \(searched); install the OpenSSH client, or name one with --ssh PATH"
        }
        if sshPath.contains("/") {
            return "ssh not found: --ssh \(sshPath) is not an executable file; name an ssh client with --ssh PATH"
        }
        return "ssh not found: no executable \(sshPath) \(searched); name an ssh client with --ssh PATH"
    }

    private static func fail(_ error: DevSSHError) -> Int32 {
        writeStandardError("devssh: \(error)\n")
        if case .usage = error { writeStandardError("Run 'devssh --help' for usage.\n") }
        return error.exitCode
    }
}
