import AgentboxCore
import BrokerControl
import BrokerProtocol
import Foundation
import Policy
import Vaults

/// The `secret-broker` command line.
public enum BrokerCommand {
    public static let usage = """
        usage: secret-broker COMMAND [OPTIONS]

        The laptop side of agentbox: holds the policy, reads local vaults, asks you to approve,
        hands short-lived scoped secret bundles to remote sessions opened with devssh.

        Commands (secret-broker COMMAND --help: its usage and options):
          serve [--policy FILE] [--socket PATH] [--audit-log FILE] [--no-prompt] [--upstream-ca FILE]
                                 run the broker (SIGHUP reloads the policy); --upstream-ca: the CA
                                 bundle the credential proxy trusts instead of the system's
          pending [--json]       list requests waiting for your approval
          approve ID [--for once|1h|4h]
                                 approve a pending request (default: once)
          deny ID                refuse a pending request
          leases [--json]        list leases
          revoke LEASE           end a lease now
          sessions [--json]      list devssh sessions
          reload                 ask the running broker to reload its policy (its warnings on stderr)
          audit [--follow] [--json] [--audit-log FILE]
                                 show the audit log
          policy check [FILE]    validate a policy file and print its warnings
          explain PROFILE --host HOST [--user USER] [--cwd DIR] [--agent] -- COMMAND...
                                 show what the policy would decide, without reading any vault

        Defaults (XDG; ~/Library on macOS):
          policy      $XDG_CONFIG_HOME/secret-broker/policy.yaml
          socket      $XDG_RUNTIME_DIR/secret-broker/control.sock (or $SECRET_BROKER_SOCKET)
          audit log   $XDG_STATE_HOME/secret-broker/audit.log

        Exit status: 0 success; 1 the broker refused the call; 64 usage error; 65 invalid
        policy; 69 broker unreachable; 77 explain: denied; 78 unsafe policy file permissions.
        """

    public static func main(_ arguments: [String]) -> Int32 {
        StandardDescriptors.ensureOpen()
        var args = CommandLineArguments(arguments)
        let environment = ProcessEnvironment.current
        let paths = BrokerPaths(environment: environment)
        guard let command = args.operand() else {
            if args.flag("--help", "-h") {
                print(usage)
                return 0
            }
            writeStandardError("secret-broker: missing command\n\(usage)\n")
            return ExitCode.usage.rawValue
        }
        if args.flag("--help", "-h"), let own = usage(of: command) {
            print(own)
            return 0
        }
        do {
            switch command {
            case "serve": return try serve(&args, paths: paths, environment: environment)
            case "pending": return try pending(&args, paths: paths)
            case "approve": return try decide(&args, paths: paths, deny: false)
            case "deny": return try decide(&args, paths: paths, deny: true)
            case "leases": return try leases(&args, paths: paths)
            case "revoke": return try revoke(&args, paths: paths)
            case "sessions": return try sessions(&args, paths: paths)
            case "reload": return try reload(&args, paths: paths)
            case "audit": return try AuditCommand.run(&args, defaultPath: paths.auditLog)
            case "policy": return try policyCheck(&args, paths: paths)
            case "explain": return try explain(&args, paths: paths)
            case "help":
                print(args.operand().flatMap(usage(of:)) ?? usage)
                return 0
            default: throw UsageError("unknown command \(command)")
            }
        } catch let error as UsageError {
            writeStandardError("secret-broker: \(error.message)\nRun 'secret-broker --help' for usage.\n")
            return ExitCode.usage.rawValue
        } catch let error as ControlError {
            switch error {
            case .refused(let code, let message) where code == "policy-invalid" || code == "policy-unsafe":
                // The running broker kept its policy; the file's errors, FILE:LINE:COLUMN first, as `policy check` shows them.
                writeStandardError("secret-broker: reload refused, the policy in force stays:\n\(message)\n")
                return code == "policy-unsafe" ? ExitCode.config.rawValue : ExitCode.dataError.rawValue
            case .unreachable:
                writeStandardError("secret-broker: \(error)\n")
                return ExitCode.unavailable.rawValue
            default:
                writeStandardError("secret-broker: \(error)\n")
                return ExitCode.failure.rawValue
            }
        } catch let error as PolicyError {
            writeStandardError("\(error)\n")
            return policyExitCode(error)
        } catch {
            writeStandardError("secret-broker: \(error)\n")
            return ExitCode.failure.rawValue
        }
    }

    // MARK: - serve

    static func serve(_ args: inout CommandLineArguments, paths: BrokerPaths, environment: [String: String]) throws -> Int32 {
        let options = BrokerDaemon.Options(
            policyPath: try args.option("--policy") ?? paths.policyFile,
            controlSocket: try args.option("--socket") ?? paths.runtimeDirectory + "/control.sock",
            auditLogPath: try args.option("--audit-log") ?? paths.auditLog,
            interactive: !args.flag("--no-prompt") && ownsTerminal(),
            upstreamCAFile: try args.option("--upstream-ca"))
        try args.finish()
        ignoreBrokenPipeSignal()
        // Until the reload handler is installed, a SIGHUP must not kill the broker.
        signal(SIGHUP, SIG_IGN)
        let log: @Sendable (String) -> Void = { writeStandardError("secret-broker: \($0)\n") }
        let secrets = VaultSecretSource(registry: .standard(environment: environment), progress: log)
        let daemon = try BrokerDaemon(options: options, secrets: secrets, log: log)
        try daemon.start()
        log("serving; control socket \(options.controlSocket)")
        log("policy \(options.policyPath); audit log \(options.auditLogPath)")
        if options.interactive { log("approval prompts appear here; also: secret-broker pending / approve ID") }
        daemon.runUntilSignalled()
    }

    /// Whether stdin is a terminal and we are its foreground job (`secret-broker serve &` is not:
    /// reading the terminal would stop it with SIGTTIN).
    static func ownsTerminal() -> Bool {
        signal(SIGTTIN, SIG_IGN)
        return isatty(0) == 1 && tcgetpgrp(0) == getpgrp()
    }

    // MARK: - control calls

    private static func client(_ args: inout CommandLineArguments, paths: BrokerPaths) throws -> ControlClient {
        ControlClient(socketPath: try args.option("--socket") ?? paths.controlSocket)
    }

    static func pending(_ args: inout CommandLineArguments, paths: BrokerPaths) throws -> Int32 {
        let json = args.flag("--json")
        let control = try client(&args, paths: paths)
        try args.finish()
        let approvals = try control.pendingApprovals()
        if json { return printJSON(approvals) }
        if approvals.isEmpty { print("no pending approvals") }
        let now = Int64(Date().timeIntervalSince1970)
        for approval in approvals {
            print(approvalPromptText(approval))
            print("  Times out in \(max(0, approval.deadline - now))s; \(approval.waiting) request(s) waiting")
            print("  Answer: secret-broker approve \(approval.approvalId) --for once|1h|4h   or   secret-broker deny \(approval.approvalId)\n")
        }
        return 0
    }

    static func decide(_ args: inout CommandLineArguments, paths: BrokerPaths, deny: Bool) throws -> Int32 {
        let duration = try args.option("--for")
        let control = try client(&args, paths: paths)
        let id = try args.requiredOperand("approval ID")
        try args.finish()
        let choice: ApprovalChoice
        if deny {
            guard duration == nil else { throw UsageError("deny takes no --for") }
            choice = .deny
        } else {
            guard let parsed = ApprovalChoice(rawValue: duration ?? "once"), parsed != .deny else {
                throw UsageError("--for must be once, 1h or 4h")
            }
            choice = parsed
        }
        try control.decide(id, choice)
        print(deny ? "denied \(id)" : "approved \(id) (\(choice.rawValue))")
        return 0
    }

    static func leases(_ args: inout CommandLineArguments, paths: BrokerPaths) throws -> Int32 {
        let json = args.flag("--json")
        let control = try client(&args, paths: paths)
        try args.finish()
        let leases = try control.leases()
        if json { return printJSON(leases) }
        if leases.isEmpty {
            print("no leases")
            return 0
        }
        var table = TextTable(header: ["LEASE", "STATE", "HOST", "PROFILE", "EXPIRES", "SECRETS", "COMMAND"])
        for lease in leases {
            table.append([lease.leaseId, lease.state.rawValue, lease.host, lease.profile, formatTime(lease.expiresAt),
                          lease.secretNames.joined(separator: ","), lease.argv.joined(separator: " ")])
        }
        print(table.text, terminator: "")
        return 0
    }

    static func revoke(_ args: inout CommandLineArguments, paths: BrokerPaths) throws -> Int32 {
        let control = try client(&args, paths: paths)
        let id = try args.requiredOperand("LEASE")
        try args.finish()
        let status = try control.revoke(id)
        print("\(id): \(status.state.rawValue)")
        return 0
    }

    static func sessions(_ args: inout CommandLineArguments, paths: BrokerPaths) throws -> Int32 {
        let json = args.flag("--json")
        let control = try client(&args, paths: paths)
        try args.finish()
        let sessions = try control.sessions()
        if json { return printJSON(sessions) }
        if sessions.isEmpty {
            print("no sessions")
            return 0
        }
        var table = TextTable(header: ["SESSION", "LOGIN", "SINCE", "ACTIVE LEASES"])
        for session in sessions {
            table.append([session.sessionId, "\(session.remoteUser)@\(session.host)", formatTime(session.createdAt),
                          String(session.activeLeases)])
        }
        print(table.text, terminator: "")
        return 0
    }

    static func reload(_ args: inout CommandLineArguments, paths: BrokerPaths) throws -> Int32 {
        let control = try client(&args, paths: paths)
        try args.finish()
        let reloaded = try control.reloadPolicy()
        print("reloaded \(reloaded.path)")
        // As `policy check` prints them: the policy is in force, and these are worth a look.
        for warning in reloaded.warnings { writeStandardError("\(warning)\n") }
        return 0
    }

    // MARK: - policy

    static func policyCheck(_ args: inout CommandLineArguments, paths: BrokerPaths) throws -> Int32 {
        guard args.operand() == "check" else { throw UsageError("usage: secret-broker policy check [FILE]") }
        let path = args.operand() ?? paths.policyFile
        try args.finish()
        let policy = try PolicyLoader.load(path: path)
        for warning in policy.warnings { print(warning) }
        print("\(path): ok, \(policy.profiles.count) profile(s): \(policy.profiles.map(\.name).joined(separator: ", "))")
        return 0
    }

    static func explain(_ args: inout CommandLineArguments, paths: BrokerPaths) throws -> Int32 {
        let policyPath = try args.option("--policy") ?? paths.policyFile
        guard let host = try args.option("--host") else { throw UsageError("explain needs --host HOST") }
        let user = try args.option("--user") ?? NSUserName()
        let cwd = try args.option("--cwd") ?? FileManager.default.currentDirectoryPath
        let names = try args.option("--names").map { $0.split(separator: ",").map(String.init) } ?? []
        let agent = args.flag("--agent")
        let command = try args.command()
        let profile = try args.requiredOperand("PROFILE")
        try args.finish()
        let policy = try PolicyLoader.load(path: policyPath)
        let request = LeaseRequest(profile: profile, cwd: cwd, argv: command, requestedNames: names, remoteUser: user,
                                   agent: agent)
        let verdict = LoadedPolicy(policy: policy).decide(
            LeaseContext(sessionId: "explain", host: host, sessionUser: user, request: request))
        switch verdict {
        case .deny(_, let message):
            print(message)
            return ExitCode.denied.rawValue
        case .grant(let terms):
            print("granted by \(terms.rule)")
            print("  secrets:  \(terms.secretNames.joined(separator: ", "))")
            print("  ttl:      \(terms.ttlSeconds)s")
            print("  approval: \(terms.requireApproval ? "required (times out after \(terms.approvalTimeoutSeconds)s)" : "not required")")
            print("  on disconnect: \(terms.onDisconnect)")
            return 0
        }
    }

    static func policyExitCode(_ error: PolicyError) -> Int32 {
        "\(error)".contains("writable by group or others") || "\(error)".contains("owned by uid")
            ? ExitCode.config.rawValue : ExitCode.dataError.rawValue
    }

    // MARK: - output

    static func printJSON<T: Encodable>(_ value: T) -> Int32 {
        print(String(decoding: WireJSON.encode(value), as: UTF8.self))
        return 0
    }

    static func formatTime(_ seconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
    }
}
