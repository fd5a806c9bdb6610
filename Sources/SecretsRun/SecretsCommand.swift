import AgentboxCore
import BrokerProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// `secrets run PROFILE [--pristine] -- CMD [ARGS...]` and `secrets status`.
public enum SecretsCommand {
    public static let usage = """
        usage: secrets run PROFILE [--pristine] [--quiet] -- COMMAND [ARGS...]
               secrets status
               secrets --help
               secrets COMMAND --help

        Asks the laptop's secret-broker, through the socket devssh forwarded, for the secrets of
        PROFILE, then replaces itself with COMMAND, the granted secrets in its environment.
        Nothing is written to disk and no shell is involved.

          --pristine   start COMMAND with only PATH, HOME, USER, LOGNAME, SHELL, TERM, LANG,
                       LC_*, TZ, TMPDIR and the granted secrets
          --quiet      no progress messages on stderr (denials are still printed)

        Environment:
          SECRETS_SOCKET           the forwarded broker socket (default:
                                   /run/user/UID/agentbox/broker.sock or ~/.agentbox/run/broker.sock)
          AGENTBOX_SESSION_NONCE   the session nonce devssh handed to this shell

        A repository request file .secrets.yaml, found upward from the working directory, names
        the secrets the project needs; it is a request, the laptop's policy decides.

        Exit status: COMMAND's own status once it runs; 64 usage error; 65 bad .secrets.yaml;
        69 broker unreachable; 70 broker answer refused; 75 the broker could not read the vault
        (try again once it can); 77 denied; 126 COMMAND not executable; 127 COMMAND not found.
        """

    /// Runs the command line; returns an exit status, or does not return when COMMAND runs.
    public static func main(_ arguments: [String]) -> Int32 {
        StandardDescriptors.ensureOpen()
        var args = CommandLineArguments(arguments)
        if arguments.isEmpty {
            writeStandardError(usage + "\n")
            return ExitCode.usage.rawValue
        }
        let command = args.operand()
        if args.flag("--help", "-h") {
            if let command, let own = usage(of: command) {
                print(own)
                return 0
            }
            if command == nil {
                print(usage)
                return 0
            }
        }
        let environment = ProcessEnvironment.current
        do {
            switch command {
            case "run": try run(&args, environment: environment)
            case "status": return try status(&args, environment: environment)
            case let other?: throw SecretsError.usage("unknown command \(other)")
            case nil: throw SecretsError.usage("missing command")
            }
        } catch let error as SecretsError {
            report(error)
            return error.exitCode
        } catch let error as UsageError {
            report(.usage(error.message))
            return ExitCode.usage.rawValue
        } catch {
            report(.protocolViolation("\(error)"))
            return ExitCode.software.rawValue
        }
    }

    private static func report(_ error: SecretsError) {
        var text = "secrets: \(error)\n"
        if case .usage = error { text += "Run 'secrets --help' for usage.\n" }
        writeStandardError(text)
    }

    static func run(_ args: inout CommandLineArguments, environment: [String: String]) throws -> Never {
        let pristine = args.flag("--pristine")
        let quiet = args.flag("--quiet", "-q")
        let command = try args.command()
        let profile = try args.requiredOperand("PROFILE")
        try args.finish()

        let cwd = try currentDirectory()
        let repository = try repositoryRequest(profile: profile, cwd: cwd, quiet: quiet)
        var request = LeaseRequest(profile: profile, cwd: cwd, argv: command, requestedNames: repository?.requires ?? [],
                                   remoteUser: currentUserName(), agent: false)
        request.requestedTTLSeconds = repository?.ttl.map { $0.components.seconds }
        let client = LeaseClient(
            socketPath: RemoteRuntimeDirectory.socketPath(environment: environment),
            nonce: environment[RemoteRuntimeDirectory.nonceEnvironmentName],
            progress: { message in if !quiet { writeStandardError("secrets: \(message)\n") } })
        let grant = try client.requestLease(request)
        var granted = try ExecEnvironment.granted(from: grant)
        granted += try BackgroundRelay.start(
            for: grant, sessionSocket: RemoteRuntimeDirectory.socketPath(environment: environment))
        let finalEnvironment = ExecEnvironment.build(
            inherited: inheritedEnvironment(), granted: granted, pristine: pristine)
        try Exec.replaceProcess(argv: command, environment: finalEnvironment)
    }

    static func status(_ args: inout CommandLineArguments, environment: [String: String]) throws -> Int32 {
        try args.finish()
        let socket = RemoteRuntimeDirectory.socketPath(environment: environment)
        let nonce = environment[RemoteRuntimeDirectory.nonceEnvironmentName]
        print("socket:  \(socket)")
        print("nonce:   \(nonce == nil ? "missing (this shell was not opened by devssh)" : "present")")
        let client = LeaseClient(socketPath: socket, nonce: nonce, progress: { _ in })
        let info = try client.sessionInfo()
        print("broker:  reachable")
        print("session: \(info.sessionId) host \(info.host) user \(info.remoteUser), \(info.activeLeases) active lease(s)")
        return 0
    }

    /// The repository's request file, if any, when it speaks of this profile.
    private static func repositoryRequest(profile: String, cwd: String, quiet: Bool) throws -> RepositoryRequestFile? {
        guard let path = RepositoryRequestFile.find(startingAt: cwd) else { return nil }
        let file: RepositoryRequestFile
        do {
            file = try RepositoryRequestFile.parse(bytes: try FileBytes.read(path), fileName: path)
        } catch {
            throw SecretsError.badRequestFile("\(error)")
        }
        if let named = file.secretProfile, named != profile {
            if !quiet {
                writeStandardError("secrets: \(path) asks for profile \(named), not \(profile); it is not used\n")
            }
            return nil
        }
        return file
    }

    private static func currentDirectory() throws(SecretsError) -> String {
        guard let raw = getcwd(nil, 0) else { throw .usage("cannot determine the working directory") }
        defer { free(raw) }
        guard let resolved = realpath(raw, nil) else { return String(cString: raw) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    public static func currentUserName() -> String {
        AccountLookup.account(uid: geteuid())?.name ?? "uid-\(geteuid())"
    }

    private static func inheritedEnvironment() -> [[UInt8]] {
        var result: [[UInt8]] = []
        var cursor = environ
        while let entry = cursor.pointee {
            result.append(Array(UnsafeRawBufferPointer(start: entry, count: strlen(entry))))
            cursor += 1
        }
        return result
    }
}
