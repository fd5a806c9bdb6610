import AgentboxCore
import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The whole chain for one test: a laptop (a `secret-broker serve` child, `devssh` run as root)
/// and a remote box (a throwaway account behind a real sshd on loopback) with the `secrets`
/// binary where that account can execute it. `stop()` removes everything, in reverse order.
final class RemoteWorld: @unchecked Sendable {
    static let hostAlias = "remote-devbox-1"

    let pass: PassStoreFixture?
    let account: TestAccount
    let sshd: SSHServerFixture
    let broker: BrokerFixture
    /// A 0755 directory holding the copy of `secrets` the remote account runs.
    let binaries: TemporaryDirectory
    /// Root-only scratch space on the laptop side: secret files, background logs.
    let laptop: TemporaryDirectory
    let clientConfig: String
    let devssh: String
    /// The absolute path of `secrets` as the remote account runs it.
    let secrets: String
    /// `/run/user/UID` of the account.
    let runtimeDirectory: String
    /// What `devssh` printed in this world (standard error always; standard output unless the
    /// command printed a secret on purpose), for the leak checks.
    private(set) var devsshOutputs: [[UInt8]] = []
    private var background: [RunningChild] = []
    private var stopped = false

    /// Builds the world. `setUpLaptop` runs before the broker starts (to write secret files into
    /// `laptop`); `policy` returns the policy text for the world's names and paths.
    init(
        usePass: Bool = false, setUpLaptop: (TemporaryDirectory, PassStoreFixture?) throws -> Void = { _, _ in },
        policy: (RemoteWorld.Names) -> String
    ) throws {
        var made: [() -> Void] = []
        func undo() { for step in made.reversed() { step() } }
        do {
            let pass = usePass ? try PassStoreFixture() : nil
            self.pass = pass
            if let pass { made.append { pass.stop() } }
            let account = try TestAccount()
            self.account = account
            made.append { account.remove() }
            runtimeDirectory = try account.makeRuntimeDirectory()
            let sshd = try SSHServerFixture()
            self.sshd = sshd
            made.append { sshd.stop() }
            clientConfig = try sshd.writeClientConfig(for: account, hostAlias: Self.hostAlias)
            let binaries = try TemporaryDirectory(prefix: "abx")
            self.binaries = binaries
            made.append { binaries.remove() }
            guard chmod(binaries.path, 0o755) == 0 else { throw FixtureError("chmod \(binaries.path)") }
            secrets = try BuiltProducts.copy("secrets", into: binaries.path)
            try Self.checkAccount(account, canRun: secrets)
            devssh = try BuiltProducts.path("devssh")
            let laptop = try TemporaryDirectory(prefix: "abl")
            self.laptop = laptop
            made.append { laptop.remove() }
            try setUpLaptop(laptop, pass)
            try Self.makeDirectories(["work", "work/billing", "work/billing/sub", "work/other"], in: account)
            let names = Names(user: account.name, home: account.home, secrets: secrets, laptop: laptop.path)
            broker = try BrokerFixture(policy: policy(names), environment: pass?.brokerEnvironment() ?? [:])
        } catch {
            undo()
            throw error
        }
    }

    /// What a policy needs to know about the world.
    struct Names {
        let user: String
        let home: String
        let secrets: String
        let laptop: String
    }

    /// Stops everything this world started, whatever state it is in.
    func stop() {
        if stopped { return }
        stopped = true
        for child in background { child.terminate(grace: .seconds(2)) }
        broker.stop()
        sshd.stop()
        account.remove()
        binaries.remove()
        laptop.remove()
        pass?.stop()
    }

    deinit { stop() }

    // MARK: - Running devssh

    /// `devssh --broker CONTROL -F CONFIG remote-devbox-1 COMMAND`, to completion.
    /// - Parameter printsSecrets: the command prints a secret on purpose; its standard output
    ///   is then left out of the leak checks (standard error never is).
    func run(_ remoteCommand: String, printsSecrets: Bool = false, timeout: Duration = .seconds(60)) throws
        -> ChildProcess.Output
    {
        let output = try ChildProcess.run(
            executable: devssh, arguments: devsshArguments(remoteCommand), environment: broker.clientEnvironment,
            timeout: timeout)
        devsshOutputs.append(output.standardError)
        if !printsSecrets { devsshOutputs.append(output.standardOutputBytes) }
        return output
    }

    /// Starts devssh in the background, its standard output and error together in a log file.
    func start(_ remoteCommand: String) throws -> BackgroundDevSSH {
        let log = laptop.file("devssh-\(background.count).log")
        let child = try ChildProcess.launch(
            executable: devssh, arguments: devsshArguments(remoteCommand), environment: broker.clientEnvironment,
            logPath: log)
        background.append(child)
        return BackgroundDevSSH(child: child, logPath: log)
    }

    func devsshArguments(_ remoteCommand: String) -> [String] {
        ["--broker", broker.controlSocket, "-F", clientConfig, Self.hostAlias, remoteCommand]
    }

    /// A remote shell command: `cd DIRECTORY && SECRETS run PROFILE -- COMMAND`, from the billing
    /// checkout by default (relative to the remote home).
    func secretsRun(_ profile: String, _ command: String, in directory: String = "work/billing", prefix: String = "")
        -> String
    {
        "cd \(directory) && \(prefix)\(secrets) run \(profile) -- \(command)"
    }

    // MARK: - Laptop-side helpers

    /// The approvals `secret-broker pending --json` lists.
    func pendingApprovals() throws -> [PendingEntry] {
        let output = try broker.cli(["pending", "--json"])
        guard output.status.isSuccess else { throw FixtureError("pending --json: \(output.standardErrorText)") }
        return try JSONDecoder().decode([PendingEntry].self, from: Data(output.standardOutputBytes))
    }

    /// Polls `pending --json` until `condition` holds for the list (at most `timeout`).
    func waitForPending(timeout: Duration = .seconds(30), _ condition: ([PendingEntry]) -> Bool) throws
        -> [PendingEntry]
    {
        let deadline = ContinuousClock.now + timeout
        var last: [PendingEntry] = []
        while ContinuousClock.now < deadline {
            last = try pendingApprovals()
            if condition(last) { return last }
            usleep(50_000)
        }
        throw FixtureError(
            "pending approvals never matched; last: \(last.map { "\($0.approvalId) waiting \($0.waiting)" })")
    }

    /// `secret-broker approve ID --for CHOICE` or `deny ID`; throws if the CLI fails.
    func answer(_ approvalId: String, approveFor choice: String?) throws {
        let arguments = choice.map { ["approve", approvalId, "--for", $0] } ?? ["deny", approvalId]
        let output = try broker.cli(arguments)
        guard output.status.isSuccess else {
            throw FixtureError("secret-broker \(arguments.joined(separator: " ")): \(output.standardErrorText)")
        }
    }

    /// `secret-broker sessions --json`.
    func sessions() throws -> [SessionEntry] {
        let output = try broker.cli(["sessions", "--json"])
        guard output.status.isSuccess else { throw FixtureError("sessions --json: \(output.standardErrorText)") }
        return try JSONDecoder().decode([SessionEntry].self, from: Data(output.standardOutputBytes))
    }

    /// The audit events, decoded, with the fields the tests look at.
    func auditEvents() throws -> [AuditEntry] {
        try broker.auditLines.map { try JSONDecoder().decode(AuditEntry.self, from: Data($0.utf8)) }
    }

    // MARK: - Leak checks

    /// Where `needle` was found among the places a secret must never be: the audit log, the
    /// broker's log, devssh's output (except a command's deliberate output), any process's argv,
    /// and any file under the remote home, `/run/user/UID`, or owned by the account in `/tmp`.
    func placesHolding(_ needle: [UInt8]) -> [String] {
        var places: [String] = []
        if broker.auditLog.firstRange(of: needle) != nil { places.append("audit log") }
        if FileIO.read(broker.logPath)?.firstRange(of: needle) != nil { places.append("broker log") }
        for (index, output) in devsshOutputs.enumerated() where output.firstRange(of: needle) != nil {
            places.append("devssh output #\(index)")
        }
        places += ProcessScan.filesContaining(needle, under: account.home)
        places += ProcessScan.filesContaining(needle, under: runtimeDirectory)
        for name in FileIO.directoryEntries("/tmp") {
            var info = stat()
            let path = "/tmp/" + name
            if lstat(path, &info) == 0, info.st_uid == account.uid, path != account.home {
                places += ProcessScan.filesContaining(needle, under: path)
            }
        }
        places += ProcessScan.processesWhoseArgumentsContain(needle).map { "argv of pid \($0)" }
        return places
    }

    // MARK: - Setup

    /// Fails here, with the loader's message, if the account cannot run `executable` (an
    /// untraversable directory on the way, an unreadable Swift runtime). "Text file busy" is
    /// retried: a child that another test spawned while the copy was being written holds the
    /// write descriptor until its own exec.
    private static func checkAccount(_ account: TestAccount, canRun executable: String) throws {
        var attempts = 0
        while true {
            do {
                try account.run(executable, ["--help"])
                return
            } catch {
                attempts += 1
                guard "\(error)".contains("Text file busy"), attempts < 100 else {
                    throw FixtureError("the test account cannot run \(executable): \(error)")
                }
                usleep(50_000)
            }
        }
    }

    private static func makeDirectories(_ relative: [String], in account: TestAccount) throws {
        for name in relative {
            let path = account.home + "/" + name
            guard mkdir(path, 0o755) == 0, chown(path, account.uid, account.gid) == 0 else {
                throw FixtureError("mkdir \(path): \(SystemError("mkdir"))")
            }
        }
    }

    /// Writes a file (0644) in the account's home, owned by the account.
    func writeRemoteFile(_ relative: String, _ text: String) throws {
        let path = account.home + "/" + relative
        try FileIO.write(path, text, mode: 0o644)
        guard chown(path, account.uid, account.gid) == 0 else { throw FixtureError("chown \(path)") }
    }
}

/// A devssh run in the background.
struct BackgroundDevSSH {
    let child: RunningChild
    let logPath: String

    var log: [UInt8] { FileIO.read(logPath) ?? [] }
    var logText: String { FileIO.readText(logPath) }

    /// Waits for devssh to exit; its exit code (128+N when killed by signal N), or nil on timeout.
    func wait(timeout: Duration = .seconds(60)) -> Int32? {
        child.waitForExit(timeout: timeout)?.code
    }
}

/// One entry of `secret-broker pending --json`.
struct PendingEntry: Decodable {
    let approvalId: String
    let profile: String
    let argv: [String]
    let cwd: String
    let secretNames: [String]
    let waiting: Int
}

/// One entry of `secret-broker sessions --json`.
struct SessionEntry: Decodable {
    let sessionId: String
    let host: String
    let remoteUser: String
}

/// The fields of an audit event the tests read.
struct AuditEntry: Decodable {
    let event: String
    let session: String?
    let reason: String?
    let result: String?
    let approval: String?
}

extension ChildProcess.ExitStatus {
    /// The exit code, or 128+N for a signal.
    var code: Int32 {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }
}

extension ChildProcess.Output {
    /// Standard output's bytes (tests compare them; they never print them).
    var standardOutputBytes: [UInt8] { standardOutput.withUnsafeBytes { Array($0) } }
}

extension Array where Element == UInt8 {
    /// How many times `needle` occurs, without overlaps.
    func occurrences(of needle: [UInt8]) -> Int {
        var count = 0
        var rest = self[...]
        while let range = rest.firstRange(of: needle) {
            count += 1
            rest = rest[range.upperBound...]
        }
        return count
    }
}
