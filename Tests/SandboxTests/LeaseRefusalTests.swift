import AgentboxCore
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `agentbox start` against a real broker, when there is no lease to be had: a denial by the
/// policy exits 77, a vault the broker cannot read exits 75 with a message that says so. In
/// both cases nothing is started and the agent's command never runs.
@Suite(.serialized)
struct LeaseRefusalTests {
    struct Case: CustomStringConvertible {
        let description: String
        /// The secret's vault reference in the policy (`VAULT` is the vault file's path).
        let reference: String
        let status: Int32
        let message: String
        let auditEvent: String
    }

    static let cases = [
        Case(
            description: "denied by the policy", reference: "file://VAULT#TOKEN", status: 77,
            message: "agentbox: denied: command /bin/echo", auditEvent: "denial"),
        Case(
            description: "vault file missing", reference: "file://VAULT.gone#TOKEN", status: 75,
            message:
                "agentbox: the broker could not read the vault for TOKEN: cannot read secret file://VAULT.gone#TOKEN: file VAULT.gone not found",
            auditEvent: "vault-error"),
        Case(
            description: "key missing from the vault", reference: "file://VAULT#OTHER", status: 75,
            message:
                "agentbox: the broker could not read the vault for TOKEN: cannot read secret file://VAULT#OTHER: key OTHER in VAULT not found",
            auditEvent: "vault-error"),
    ]

    @Test(arguments: cases)
    func startWithoutALeaseRunsNothingAndSaysWhy(_ refusal: Case) throws {
        let directory = try TemporaryDirectory(prefix: "abr")
        defer { directory.remove() }
        let workdir = directory.path + "/work"
        mkdir(workdir, 0o755)
        let vault = try directory.write("vault.env", Array("TOKEN=refusal-value-42\n".utf8))
        let reference = refusal.reference.replacingOccurrences(of: "VAULT", with: vault)
        let policy = try LocalBroker.writeAgentPolicy(in: directory, allowedCommand: "/bin/sh *", reference: reference)
        let broker = try LocalBroker(policy: policy, in: directory)
        defer { broker.stop() }
        let marker = directory.path + "/ran"
        // The denial case asks for a command the profile does not allow.
        let command =
            refusal.auditEvent == "denial"
            ? ["/bin/echo", "never"] : ["/bin/sh", "-c", "touch \(marker); echo $TOKEN"]
        let output = try broker.startAgent(workdir: workdir, command)
        let expected = refusal.message.replacingOccurrences(of: "VAULT", with: vault)
        #expect(output.status == .exited(refusal.status), "\(output.standardErrorText)")
        #expect(output.standardErrorText.contains(expected), "\(output.standardErrorText)")
        #expect(!output.standardErrorText.contains("refusal-value-42"))
        #expect(output.standardOutputText.isEmpty, "the command ran: \(output.standardOutputText)")
        #expect(!hostFileExists(marker), "the command ran")
        let audit = FileIO.readText(broker.auditLog)
        #expect(audit.contains("\"event\":\"\(refusal.auditEvent)\""), "\(audit)")
        #expect(!audit.contains("\"event\":\"grant\""), "\(audit)")
        #expect(!audit.contains("refusal-value-42"))
    }
}
