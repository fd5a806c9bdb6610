import AgentboxCore
import BrokerProtocol
import Policy
import SecretsRun
import TestSupport
import UnixHTTP
import Vaults

@testable import Broker

/// A broker core in this process with a real policy file, a real file:// vault and real sockets.
final class BrokerHarness: @unchecked Sendable {
    let directory: TemporaryDirectory
    let core: BrokerCore
    let auditPath: String
    let vaultPath: String

    static let tokenValue = Array("tok-\u{00fc}ber\nsecond line = \"$HOME\" `x`".utf8)
    static let passwordValue = Array("hunter2-correct-horse".utf8)

    init(policyBody: (String) -> String) throws {
        directory = try TemporaryDirectory(prefix: "abbr")
        vaultPath = try directory.write("vault.env", Array("""
            API_TOKEN="tok-\u{00fc}ber\\nsecond line = \\"$HOME\\" `x`"
            DB_PASSWORD=hunter2-correct-horse

            """.utf8))
        let policyPath = try directory.write("policy.yaml", Array(policyBody(vaultPath).utf8))
        auditPath = directory.file("audit.log")
        let policy = try PolicyLoader.load(path: policyPath)
        core = try BrokerCore(
            policy: LoadedPolicy(policy: policy),
            secrets: VaultSecretSource(registry: .standard(), progress: { _ in }),
            audit: try AuditLog(path: auditPath), sessionDirectory: directory.file("sessions"))
    }

    deinit {
        core.shutdown()
        directory.remove()
    }

    func session(host: String = "devbox", user: String = "alex") throws -> (SessionCreated, LeaseClient) {
        let created = try core.registerSession(SessionRegistration(host: host, remoteUser: user, ownerPid: 0))
        return (created, LeaseClient(socketPath: created.socketPath, nonce: created.nonce, progress: { _ in }))
    }

    func request(_ profile: String = "billing", argv: [String] = ["npm", "test"], cwd: String = "/home/alex/work/billing",
                 names: [String] = [], user: String = "alex", agent: Bool = false) -> LeaseRequest {
        LeaseRequest(profile: profile, cwd: cwd, argv: argv, requestedNames: names, remoteUser: user, agent: agent)
    }

    var auditText: String { FileIO.readText(auditPath) }

    static func policy(approval: Bool = false, timeout: String = "3s", onDisconnect: String = "continue") -> (String) -> String {
        { vault in
            """
            version: 1
            profiles:
              billing:
                allowedHosts: [devbox]
                allowedRemoteUsers: [alex]
                allowedPaths: [/home/alex/work/billing/**]
                allowedCommands: ["npm test", "printenv *"]
                requireApproval: \(approval)
                approvalTimeout: \(timeout)
                onDisconnect: \(onDisconnect)
                ttl: 1h
                secrets:
                  API_TOKEN: file://\(vault)#API_TOKEN
                  DB_PASSWORD: { from: "file://\(vault)#DB_PASSWORD", class: inject }
                  ROOT_TOKEN: { from: "file://\(vault)#MISSING", class: never }
              agent-profile:
                agent: true
                allowedHosts: [devbox]
                allowedCommands: ["codex"]
                secrets:
                  API_TOKEN: file://\(vault)#API_TOKEN

            """
        }
    }
}

/// Decodes a grant's environment into name → bytes.
func values(_ grant: LeaseGrant) throws -> [String: [UInt8]] {
    var result: [String: [UInt8]] = [:]
    for variable in try ExecEnvironment.granted(from: grant) { result[variable.name] = variable.value }
    return result
}
