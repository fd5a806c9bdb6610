import AgentboxCore
import BrokerControl
import Dispatch
import Foundation
import Policy
import CredentialProxy
import UnixHTTP

/// `secret-broker serve`: loads the policy, opens the control socket, serves until SIGINT/SIGTERM,
/// reloads the policy on SIGHUP (keeping the old one when the new one is invalid).
public final class BrokerDaemon: @unchecked Sendable {
    public struct Options: Sendable {
        public var policyPath: String
        public var controlSocket: String
        public var auditLogPath: String
        /// Prompt on the broker's terminal when stdin is one.
        public var interactive: Bool
        /// A CA bundle the proxy trusts for upstream HTTPS instead of the system's (tests).
        public var upstreamCAFile: String?

        public init(policyPath: String, controlSocket: String, auditLogPath: String, interactive: Bool,
                    upstreamCAFile: String? = nil) {
            self.upstreamCAFile = upstreamCAFile
            self.policyPath = policyPath
            self.controlSocket = controlSocket
            self.auditLogPath = auditLogPath
            self.interactive = interactive
        }
    }

    public let options: Options
    public let core: BrokerCore
    private var control: UnixHTTPServer?
    private var signalSources: [DispatchSourceSignal] = []
    private let log: @Sendable (String) -> Void

    public init(options: Options, secrets: any SecretSource, log: @escaping @Sendable (String) -> Void) throws {
        self.options = options
        self.log = log
        let policy = try PolicyLoader.load(path: options.policyPath)
        // Each reads `FILE:LINE:COLUMN: warning: MESSAGE` already.
        for warning in policy.warnings { log("\(warning)") }
        let audit = try AuditLog(path: options.auditLogPath)
        let runtime = FileSafety.parent(of: options.controlSocket)
        try FileSafety.makePrivateDirectory(runtime)
        let interactive = options.interactive
        core = try BrokerCore(
            policy: LoadedPolicy(policy: policy), secrets: secrets, audit: audit,
            sessionDirectory: runtime + "/sessions",
            prompter: { core -> any ApprovalPrompter in
                guard interactive else { return SilentPrompter() }
                return TerminalPrompter(decide: { id, choice in core.leaseService.decide(approvalId: id, choice: choice) })
            },
            upstreamOptions: UpstreamOptions(caFile: options.upstreamCAFile))
        audit.record("broker-start", ["policy": .string(options.policyPath), "pid": .int(Int64(getpid()))])
    }

    /// Opens the control socket and starts the ticker.
    public func start() throws {
        control = try UnixHTTPServer(
            socketPath: options.controlSocket, allowedPeerUID: getuid(),
            handler: ControlAPI(core: core, reload: { [weak self] in
                self?.reload() ?? .failure(PolicyLoadFailure(code: "broker-stopping", message: "broker stopping"))
            }))
        core.startTicker()
    }

    /// Re-reads the policy file; on any error the policy in force stays and the error is returned.
    public func reload() -> Result<(path: String, warnings: [String]), PolicyLoadFailure> {
        do {
            let policy = try PolicyLoader.load(path: options.policyPath)
            core.replacePolicy(LoadedPolicy(policy: policy))
            core.audit.record("policy-reload", ["policy": .string(options.policyPath), "result": "ok"])
            log("policy reloaded from \(options.policyPath)")
            let warnings = policy.warnings.map { "\($0)" }
            for warning in warnings { log(warning) }
            return .success((options.policyPath, warnings))
        } catch {
            core.audit.record("policy-reload", ["policy": .string(options.policyPath), "result": "kept old policy"])
            log("policy reload failed, keeping the policy in force:\n\(error)")
            // Told apart as `policy check` tells them apart, so that `reload` exits as it does.
            let unsafe = BrokerCommand.policyExitCode(error) == ExitCode.config.rawValue
            return .failure(PolicyLoadFailure(code: unsafe ? "policy-unsafe" : "policy-invalid", message: "\(error)"))
        }
    }

    /// Serves until SIGINT or SIGTERM; SIGHUP reloads the policy.
    public func runUntilSignalled() -> Never {
        let stop: @Sendable () -> Void = { [self] in
            log("stopping")
            stopNow()
            exit(0)
        }
        for (number, action) in [(SIGHUP, { [self] in _ = self.reload() } as @Sendable () -> Void),
                                 (SIGINT, stop), (SIGTERM, stop)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: action)
            source.resume()
            signalSources.append(source)
        }
        dispatchMain()
    }

    public func stopNow() {
        control?.stop()
        core.shutdown()
        core.audit.record("broker-stop", ["pid": .int(Int64(getpid()))])
    }
}
