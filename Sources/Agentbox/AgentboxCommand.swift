import AgentboxCore
import BrokerProtocol
import Redaction
import Sandbox
import SecretsRun

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// The `agentbox` command line: `start`, `sandbox`, `list`, `stop`, `doctor`.
public enum AgentboxCommand {
    /// The box cannot give the protection asked for, or the request would expose too much.
    public static let refusedExitCode: Int32 = 78

    public static let usage = """
        usage: agentbox start PROFILE [--workdir DIR] [--network host|proxy-only|none] [--run-as USER]
                              [--grace SECONDS] [--max-processes N] [--seccomp-profile FILE] [--print-plan]
                              [--quiet] [--transcript PATH] [--no-masking] [--keep-file FILE] -- COMMAND [ARGS...]
               agentbox sandbox [--workdir DIR] [--network ...] [--run-as USER] [--seccomp-profile FILE]
                              [--max-processes N] [--print-plan] [--quiet] -- COMMAND [ARGS...]
               agentbox list
               agentbox stop ID
               agentbox redact [--from-session ID] [--secret-file FILE]... [--secret-value-file FILE]...
                               [--no-token-formats] [--min-length N] [FILE...]
               agentbox doctor
               agentbox COMMAND --help     (that command's usage and options)

        start    asks the laptop's broker for an agent lease on PROFILE (an `agent: true` profile),
                 runs COMMAND in a sandbox with the lease's environment, and ends every process of
                 the session when the lease expires or is revoked, or on `agentbox stop`.
                 On a terminal, COMMAND gets a pty of agentbox's own; otherwise stdin passes through
                 and stdout/stderr are relayed. Output is redacted (the session's values and known
                 token formats) on the terminal (unless --no-masking) and in an asciinema v2
                 transcript, kept as $XDG_STATE_HOME/agentbox/transcripts/ID.cast (or --transcript
                 PATH), with the agent's kept files (--keep-file, default share/agentbox/keep.txt).
        sandbox  runs COMMAND in the same sandbox without a lease (no secrets), to check a box.
                 --quiet: no progress lines. The seccomp profile: --seccomp-profile FILE, else
                 $AGENTBOX_SECCOMP_PROFILE, else share/agentbox/seccomp-default.txt beside the
                 binary, in /usr/local/share or /usr/share (without one, agentbox refuses to start).
        list     live sessions: id, profile, command, lease expiry, supervisor pid.
        stop     ends a session: SIGTERM to all its processes, a grace period, then SIGKILL.
        redact   the session redactor over FILEs (or stdin) to stdout: values from --secret-file (one a
                 line), --secret-value-file (whole file), --from-session ID (a live session's values,
                 asked over its private control socket), plus known token formats.
        doctor   what this kernel offers (user namespaces, hidepid, seccomp, cgroups) and what
                 agentbox would do.

        Exit status: COMMAND's own status once it runs (128+N when killed by signal N, e.g. 143
        after stop or lease end; a session ended by stop, lease end, revocation or disconnect is
        never 0: 143 when COMMAND caught the signal and exited 0); 64 usage error; 69 broker
        unreachable; 70 broker answer refused; 71 a sandbox step failed; 75 the broker could not read
        the vault; 77 denied; 78 refused: the box cannot provide a protection asked for, or the working
        directory would expose too much; 126 COMMAND not executable; 127 COMMAND not found; 1 stop/list:
        no such session.
        """

    public static func main(_ arguments: [String]) -> Int32 {
        StandardDescriptors.ensureOpen()
        var args = CommandLineArguments(arguments)
        guard let command = args.operand() else {
            if args.flag("--help", "-h") {
                print(usage)
                return 0
            }
            writeStandardError("agentbox: missing command\n\(usage)\n")
            return ExitCode.usage.rawValue
        }
        if args.flag("--help", "-h"), let own = usage(of: command) {
            print(own)
            return 0
        }
        let environment = ProcessEnvironment.current
        do {
            switch command {
            case "start": return try start(&args, environment: environment, lease: true)
            case "sandbox": return try start(&args, environment: environment, lease: false)
            case "list": return try list(&args, environment: environment)
            case "stop": return try stop(&args, environment: environment)
            case "doctor": return try doctor(&args)
            case "redact": return RedactSubcommand.run(Array(arguments.drop { $0 != "redact" }.dropFirst()), environment: environment)
            case "help":
                print(args.operand().flatMap(usage(of:)) ?? usage)
                return 0
            default: throw AgentboxError.usage("unknown command \(command)")
            }
        } catch let error as AgentboxError {
            report(error)
            return error.exitCode
        } catch let error as UsageError {
            report(.usage(error.message))
            return ExitCode.usage.rawValue
        } catch let error as SecretsError {
            report(.lease(error))
            return error.exitCode
        } catch let error as SandboxError {
            report(.sandbox(error))
            return AgentboxError.sandbox(error).exitCode
        } catch {
            writeStandardError("agentbox: \(error)\n")
            return ExitCode.software.rawValue
        }
    }

    private static func report(_ error: AgentboxError) {
        var text = "agentbox: \(error)\n"
        if case .usage = error { text += "Run 'agentbox --help' for usage.\n" }
        writeStandardError(text)
    }

    // MARK: start / sandbox

    static func start(_ args: inout CommandLineArguments, environment: [String: String], lease: Bool) throws -> Int32 {
        let command = try args.command()
        let profile = lease ? try args.requiredOperand("PROFILE") : "(no lease)"
        let workdirOption = try args.option("--workdir")
        let networkOption = try args.option("--network")
        let runAs = try args.option("--run-as")
        let graceText = try args.option("--grace") ?? "2"
        let maxProcessesText = try args.option("--max-processes")
        let seccompOption = try args.option("--seccomp-profile")
        let printPlan = args.flag("--print-plan")
        let quiet = args.flag("--quiet", "-q")
        let outputOptions = try SessionOutputOptions.parse(&args)
        try args.finish()
        let requestedNetwork = try networkOption.map { text throws(AgentboxError) -> SandboxNetwork in
            guard let mode = SandboxNetwork(rawValue: text) else {
                throw .usage("--network must be host, proxy-only or none, not \(text)")
            }
            return mode
        }
        var network = requestedNetwork ?? .proxyOnly
        guard let graceSeconds = Double(graceText), graceSeconds >= 0, graceSeconds <= 60 else {
            throw AgentboxError.usage("--grace takes 0 to 60 seconds")
        }
        var maxProcesses = SandboxPlan.defaultMaxProcesses
        if let maxProcessesText {
            guard let value = Int(maxProcessesText), (0...4_194_304).contains(value) else {
                throw AgentboxError.usage("--max-processes takes a number of processes, 0 (no limit) to 4194304")
            }
            maxProcesses = value
        }
        let workdir = try resolvedDirectory(workdirOption ?? ".")
        let seccomp = try loadSeccompProfile(seccompOption, environment: environment)
        var identity = try identity(runAs: runAs)
        let locations = StandardLocations(environment: environment)
        let progress: @Sendable (String) -> Void = { message in if !quiet { writeStandardError("agentbox: \(message)\n") } }

        if printPlan {
            var plan = try SandboxPlanner.plan(
                SandboxRequest(
                    workdir: workdir, network: network, identity: identity, sessionDirectory: "SESSION/home",
                    newRoot: "SESSION/root", userHome: locations.home, argv: command,
                    environment: baseEnvironment(granted: []), seccomp: seccomp), kind: hostFileKind)
            plan.maxProcesses = maxProcesses
            print(plan)
            if lease { print("lease: the environment of the granted lease is added at start") }
            return 0
        }

        // From here on a stop signal is remembered, and acted on once the session runs (or the
        // session is not started); while the lease is asked for, it gives the request up.
        StopSignals.install()
        // The lease first: nothing is built for a request the laptop refuses.
        var grant: LeaseGrant?
        var client: LeaseClient?
        var granted: [EnvironmentVariable] = []
        if lease {
            let leaseClient = LeaseClient(
                socketPath: RemoteRuntimeDirectory.socketPath(environment: environment),
                nonce: environment[RemoteRuntimeDirectory.nonceEnvironmentName], progress: progress)
            let request = LeaseRequest(profile: profile, cwd: workdir, argv: command, requestedNames: [],
                                       remoteUser: SecretsCommand.currentUserName(), agent: true)
            let answer = try requestLeaseUnlessStopped(leaseClient, request)
            do {
                network = try SandboxSettings.network(profile: answer.network, requested: requestedNetwork)
                if let account = try SandboxSettings.account(profile: answer.runAs, requested: runAs) {
                    identity = try Self.identity(runAs: account)
                }
            } catch {
                _ = try? leaseClient.release(answer.leaseId, ending: LeaseEnding(reason: "error", exitStatus: nil))
                throw error
            }
            granted = try ExecEnvironment.granted(from: answer)
            grant = answer
            client = leaseClient
        }
        func releaseLease(_ ending: LeaseEnding) {
            if let grant, let client { _ = try? client.release(grant.leaseId, ending: ending) }
        }
        let store = SessionStore(environment: environment)
        let id = Crypto.randomToken(byteCount: 6)
        let supervisorIdentity = SupervisorIdentity.current
        let paths: (home: String, root: String)
        do {
            try prepareGitDirectory(workdir)
            paths = try store.create(id, supervisor: supervisorIdentity)
            if case .account(_, let uid, let gid) = identity {
                guard chown(paths.home, uid, gid) == 0 else { throw SystemError("chown \(paths.home)") }
            }
        } catch {
            releaseLease(LeaseEnding(reason: "error", exitStatus: nil))
            throw AgentboxError.system("cannot prepare the session: \(error)")
        }
        // Proxy endpoints: a relay to the forwarded proxy socket, the base URL variables, agent config.
        var wiring: ProxyWiring?
        var relay: ProxyRelay?
        defer { relay?.stop() }
        if let grant, !grant.proxies.isEmpty {
            if network == .none {
                progress("the lease's proxy endpoints are not wired: --network none leaves the agent no way out")
            } else {
                do {
                    let socket = try ProxyRelay.proxySocketPath(
                        grant, sessionSocket: RemoteRuntimeDirectory.socketPath(environment: environment))!
                    var port = ProxyWiring.sandboxPort
                    if network == .host {
                        let hostRelay = try ProxyRelay(socketPath: socket)
                        relay = hostRelay
                        port = hostRelay.port
                    }
                    let wired = ProxyWiring(grant: grant, proxySocket: socket, port: port)
                    granted += wired.baseURLVariables
                    var owner: (uid: UInt32, gid: UInt32)?
                    if case .account(_, let uid, let gid) = identity { owner = (uid, gid) }
                    try wired.writeAgentConfig(home: paths.home, owner: owner)
                    wiring = wired
                } catch {
                    store.remove(id)
                    releaseLease(LeaseEnding(reason: "error", exitStatus: nil))
                    throw AgentboxError.system("cannot wire the proxy endpoints: \(error)")
                }
            }
        }
        var environmentValues = baseEnvironment(granted: granted)
        environmentValues.append((name: "AGENTBOX_SESSION_ID", value: Array(id.utf8)))
        let outcome: Int32
        var endReason = "exit"
        var output: SessionOutput?
        var scrubFindings: Int?
        var sandbox: SandboxProcess?
        var staleSweep: CompletionEvent?
        do {
            output = try SessionOutput(
                options: outputOptions, secrets: granted.map { RedactionSecret(name: $0.name, value: $0.value) }, id: id,
                sessionDirectory: store.sessionDirectory(id), sessionHome: paths.home, record: lease,
                environment: environment, progress: progress)
            var plan = try SandboxPlanner.plan(
                SandboxRequest(
                    workdir: workdir, network: network, identity: identity, sessionDirectory: paths.home,
                    newRoot: paths.root, userHome: locations.home, argv: command, environment: environmentValues,
                    seccomp: seccomp), kind: hostFileKind)
            for index in environmentValues.indices { environmentValues[index].value.withUnsafeMutableBytes { ab_zero($0) } }
            granted.removeAll()
            output?.configure(&plan)
            plan.maxProcesses = maxProcesses
            if let refusal = HostFeatures.detect(informational: false).refusal(for: plan) { throw refusal }
            if let signal = StopSignals.received { throw AgentboxError.stoppedBeforeStart(signal) }
            SandboxLauncher.becomeSubreaper()
            if let wiring, network != .host { plan.loopbackListeners = [wiring.port] }
            let process = try SandboxLauncher.spawn(plan)
            sandbox = process
            if let wiring, let listener = process.listeners.first {
                relay = ProxyRelay(listeningOn: listener, port: wiring.port, socketPath: wiring.proxySocket)
            }
            let supervisor = SessionSupervisor(process: process, grace: .milliseconds(Int(graceSeconds * 1000)))
            do {
                try store.write(SessionRecord(
                    id: id, profile: profile, command: command, leaseExpiry: grant?.expiresAt ?? 0,
                    leaseId: grant?.leaseId ?? "", supervisorPid: supervisorIdentity.pid,
                    supervisorStart: supervisorIdentity.startTime, workdir: workdir))
            } catch {
                // The first record (the supervisor alone) stays: `stop` and the cleanup still know the session.
                progress("warning: the session record lacks the profile and command: \(error)")
            }
            // Leftovers of sessions whose supervisor died, cleared while the agent runs (not
            // before: it is no step of this session's), on a thread of their own: the main thread
            // goes on to wait for the session and act on a stop signal, however large the stale
            // trees. Ours has a record with a live supervisor.
            let sweep = CompletionEvent()
            staleSweep = sweep
            startDetachedThread {
                for candidate in SessionStore.all(environment: environment) { candidate.removeStale() }
                sweep.complete()
            }
            if let grant, let client {
                supervisor.endAtExpiry(grant.expiresAt)
                supervisor.watchLease(client: client, leaseId: grant.leaseId, onDisconnect: grant.onDisconnect,
                                      expiresAt: grant.expiresAt)
            }
            progress("session \(id) started (supervisor pid \(getpid()), sandbox init pid \(process.pid))")
            try output?.start()
            // SIGTERM (agentbox stop), SIGINT and SIGHUP end the session; the thread that waits for
            // it acts on them (StopSignals has caught them since before the spawn).
            outcome = process.wait(wakingOn: StopSignals.wakeDescriptor) { supervisor.end(.stopped) }
            scrubFindings = output?.finish()
            endReason = supervisor.endReason.rawValue
            let status = exitStatus(outcome, endReason: endReason)
            progress("session \(id) ended (\(endReason)), command status \(outcome)"
                + (status == outcome ? "" : ", agentbox exits \(status)"))
        } catch {
            output?.abandon()
            store.remove(id)
            releaseLease(LeaseEnding(reason: "error", exitStatus: nil))
            throw error
        }
        store.remove(id)
        releaseLease(LeaseEnding(reason: endReason, exitStatus: outcome, scrubFindings: scrubFindings))
        // The init has been leaving while the session was torn down; agentbox ends after it.
        sandbox?.reap()
        // The sweep gets a second after a session that ended by itself, none after one that was
        // stopped: agentbox never outstays a stop for it. Cut short, it goes on at the next start.
        _ = staleSweep?.wait(timeout: endReason == SessionEnd.exit.rawValue ? .seconds(1) : .zero)
        return exitStatus(outcome, endReason: endReason)
    }

    /// agentbox's own status: the command's, except that a session agentbox ended (stop, lease
    /// end, revocation, disconnect) never reports success, even when the command caught SIGTERM
    /// and exited 0: `agentbox start … && next` must not go on. The broker's audit keeps the
    /// command's own status.
    static func exitStatus(_ outcome: Int32, endReason: String) -> Int32 {
        endReason != SessionEnd.exit.rawValue && outcome == 0 ? 128 + SIGTERM : outcome
    }

    /// The grant, or `stoppedBeforeStart` when a stop signal gave the request up.
    static func requestLeaseUnlessStopped(_ client: LeaseClient, _ request: LeaseRequest) throws -> LeaseGrant {
        do {
            return try client.requestLease(request, cancelDescriptor: StopSignals.wakeDescriptor)
        } catch {
            if case .cancelled = error { throw AgentboxError.stoppedBeforeStart(StopSignals.received ?? SIGTERM) }
            throw error
        }
    }

    /// The agent's environment: a minimal base from ours plus the lease's grant; never the
    /// session nonce or the broker socket.
    static func baseEnvironment(granted: [EnvironmentVariable]) -> [(name: String, value: [UInt8])] {
        var inherited: [[UInt8]] = []
        for (name, value) in ProcessEnvironment.current where ["PATH", "TERM", "LANG", "TZ"].contains(name) || name.hasPrefix("LC_") {
            inherited.append(Array("\(name)=\(value)".utf8))
        }
        if !inherited.contains(where: { $0.starts(with: Array("PATH=".utf8)) }) {
            inherited.append(Array("PATH=/usr/local/bin:/usr/bin:/bin".utf8))
        }
        return ExecEnvironment.build(inherited: inherited, granted: granted, pristine: true).map { ($0.name, $0.value) }
    }

    /// Git creates `.git/hooks` itself; made here when missing so it can be bound read-only.
    static func prepareGitDirectory(_ workdir: String) throws(SystemError) {
        guard hostFileKind(workdir + "/.git") == .directory else { return }
        if hostFileKind(workdir + "/.git/hooks") == .missing {
            try valueOrErrno("mkdir \(workdir)/.git/hooks") { mkdir(workdir + "/.git/hooks", 0o755) }
        }
    }

    static func identity(runAs: String?) throws(AgentboxError) -> SandboxIdentity {
        if let runAs {
            guard geteuid() == 0 else { throw .usage("--run-as needs agentbox to run as root") }
            guard let account = AccountLookup.account(name: runAs) else {
                throw .config("no such account \(runAs) for --run-as")
            }
            guard account.uid != 0 else { throw .config("--run-as must name an unprivileged account") }
            return .account(name: runAs, uid: account.uid, gid: account.gid)
        }
        return .userNamespace(insideUID: getuid(), outsideUID: getuid(), insideGID: getgid(), outsideGID: getgid())
    }

    static func resolvedDirectory(_ path: String) throws(AgentboxError) -> String {
        guard let resolved = realpath(path, nil) else { throw .usage("cannot resolve the working directory \(path)") }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `--seccomp-profile`, `$AGENTBOX_SECCOMP_PROFILE`, then the installed and source-tree copies
    /// of `sandbox/seccomp-default.txt`. Without one, agentbox refuses to start.
    static func loadSeccompProfile(_ option: String?, environment: [String: String]) throws(AgentboxError) -> [SeccompRule] {
        var candidates: [String] = []
        if let option { candidates = [option] } else if let path = environment["AGENTBOX_SECCOMP_PROFILE"] {
            candidates = [path]
        } else {
            let exe = executableDirectory()
            candidates = [exe + "/../share/agentbox/seccomp-default.txt", "/usr/local/share/agentbox/seccomp-default.txt",
                          "/usr/share/agentbox/seccomp-default.txt"]
        }
        for path in candidates {
            guard let bytes = try? FileBytes.read(path) else { continue }
            do {
                return try SeccompProfile.parse(String(decoding: bytes, as: UTF8.self), fileName: path)
            } catch {
                throw .config("\(error)")
            }
        }
        throw .sandbox(.missingProtection(
            protection: "seccomp",
            reason: "no seccomp profile found (tried \(candidates.joined(separator: ", "))); install sandbox/seccomp-default.txt with `make install`, or name one with --seccomp-profile FILE or AGENTBOX_SECCOMP_PROFILE"))
    }

    static func executableDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return "." }
        return FileSafety.parent(of: String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    // MARK: list / stop

    static func list(_ args: inout CommandLineArguments, environment: [String: String]) throws -> Int32 {
        try args.finish()
        var records: [SessionRecord] = []
        for store in SessionStore.all(environment: environment) {
            for record in store.all() where !records.contains(where: { $0.id == record.id }) { records.append(record) }
        }
        records.sort { $0.id < $1.id }
        print("ID            PROFILE           EXPIRES               PID      COMMAND")
        for record in records {
            let alive = record.supervisor.isRunning
            let expiry = record.leaseExpiry == 0 ? "-" : formatTime(record.leaseExpiry)
            print("\(pad(record.id, 13)) \(pad(record.profile, 17)) \(pad(expiry, 21)) \(pad(String(record.supervisorPid), 8)) \(record.command.joined(separator: " "))\(alive ? "" : "  (stale)")")
        }
        return 0
    }

    static func stop(_ args: inout CommandLineArguments, environment: [String: String]) throws -> Int32 {
        let id = try args.requiredOperand("ID")
        try args.finish()
        guard let store = SessionStore.holding(id, environment: environment), let record = store.read(id),
            record.supervisor.isRunning
        else { throw AgentboxError.noSuchSession(id) }
        // Through a pidfd, checked against the record's start time: never a process that got a
        // dead supervisor's pid.
        guard record.supervisor.send(SIGTERM) else {
            if !record.supervisor.isRunning { throw AgentboxError.noSuchSession(id) }
            throw AgentboxError.system("cannot signal \(record.supervisorPid): \(SystemError("pidfd_send_signal"))")
        }
        // The supervisor removes the record at teardown.
        for _ in 0..<1000 {
            if store.read(id) == nil { return 0 }
            usleep(10_000)
        }
        throw AgentboxError.system("session \(id) did not end within 10 s")
    }

    // MARK: doctor

    static func doctor(_ args: inout CommandLineArguments) throws -> Int32 {
        try args.finish()
        let features = HostFeatures.detect()
        let userNS = (features.maxUserNamespaces ?? 0) > 0 && (features.isRoot || features.unprivilegedUserNamespaceClone != 0)
        print("user namespaces:       \(userNS ? "available" : "NOT available")")
        print("max_user_namespaces:   \(features.maxUserNamespaces.map(String.init) ?? "unreadable")")
        if let clone = features.unprivilegedUserNamespaceClone { print("unprivileged_userns_clone: \(clone)") }
        print("host /proc hidepid:    \(features.hostProcHidepid ? "invisible" : "off (the sandbox mounts its own /proc with hidepid=invisible)")")
        print("seccomp:               \(features.seccomp ? "available (\(String(cString: ab_native_arch())))" : "NOT available")")
        print("cgroup version:        \(features.cgroupVersion.map { "v\($0)" } ?? "none") (not used yet)")
        print("running as:            \(features.isRoot ? "root: --run-as USER runs the agent as that account; without it, a user namespace" : "uid \(getuid()): rootless, user namespace")")
        if !userNS {
            print("agentbox would:        refuse to start (user namespaces are disabled)")
        } else if !features.seccomp {
            print("agentbox would:        refuse to start (no seccomp)")
        } else {
            print("agentbox would:        user+pid+mount+ipc+uts(+net) namespaces, /proc hidepid=invisible, read-only system dirs, 0700 session home, no capabilities, no_new_privs, seccomp")
        }
        return userNS && features.seccomp ? 0 : refusedExitCode
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private static func formatTime(_ seconds: Int64) -> String {
        var value = time_t(seconds)
        var parts = tm()
        gmtime_r(&value, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

func writeStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if written <= 0 { if errno == EINTR { continue } else { return } }
        offset += written
    }
}
