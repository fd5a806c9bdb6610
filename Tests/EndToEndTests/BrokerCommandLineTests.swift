import AgentboxCore
import TestSupport
import Testing

/// The `secret-broker` command line against a real broker, with a session and a lease made by
/// `devssh --local` and `secrets run` on this machine (no ssh).
@Suite struct BrokerCommandLineTests {
    static let tokenValue = "listing-token-value-42"

    /// A broker whose policy hands TOKEN (a file:// vault) to `/bin/true` on host testhost.
    static func broker() throws -> BrokerFixture {
        let broker = try BrokerFixture(policy: "version: 1\nprofiles: {}\n")
        let vault = try broker.directory.write("vault.env", Array("TOKEN=\(tokenValue)\n".utf8))
        try broker.writePolicy(
            """
            version: 1
            profiles:
              listing:
                allowedHosts: [testhost]
                allowedCommands: ["/bin/true"]
                secrets:
                  TOKEN: file://\(vault)#TOKEN

            """)
        let reload = try broker.cli(["reload"])
        guard reload.status == .exited(0) else { throw FixtureError("reload: \(reload.standardErrorText)") }
        return broker
    }

    /// Runs `script` under `sh -c` in a `devssh --local testhost` session; `$SECRETS` and
    /// `$BROKER` are the built `secrets` and `secret-broker`.
    static func inSession(_ broker: BrokerFixture, _ script: String) throws -> ChildProcess.Output {
        var environment = broker.clientEnvironment
        environment["SECRETS"] = try BuiltProducts.path("secrets")
        environment["BROKER"] = broker.brokerExecutable
        return try ChildProcess.run(
            executable: try BuiltProducts.path("devssh"),
            arguments: ["--broker", broker.controlSocket, "--local", "testhost", "--", "/bin/sh", "-c", script],
            environment: environment, timeout: .seconds(30))
    }

    /// The columns at which the cells of `line` start: cells are separated by two spaces or more.
    static func cellStarts(_ line: Substring) -> [Int] {
        let characters = Array(line)
        return characters.indices.filter { index in
            characters[index] != " "
                && (index == 0 || (index >= 2 && characters[index - 1] == " " && characters[index - 2] == " "))
        }
    }

    /// `reload` shows the new policy's warnings, as `policy check` does (it said nothing of them).
    @Test func reloadShowsTheNewPolicysWarnings() throws {
        let broker = try Self.broker()
        defer { broker.stop() }
        try broker.writePolicy("version: 1\nprofiles: {}\n")
        let reload = try broker.cli(["reload"])
        #expect(reload.status == .exited(0), "\(reload.standardErrorText)")
        #expect(reload.standardOutputText.hasPrefix("reloaded "), "\(reload.standardOutputText)")
        #expect(
            reload.standardErrorText.contains("warning: the policy has no profiles: every request is denied"),
            "\(reload.standardErrorText)")
    }

    @Test func leasesAndSessionsPrintAHeaderRowAboveTheirRows() throws {
        let broker = try Self.broker()
        defer { broker.stop() }
        let output = try Self.inSession(
            broker,
            """
            "$SECRETS" run --quiet listing -- /bin/true || exit 9
            "$BROKER" leases && echo --- && "$BROKER" sessions
            """)
        #expect(output.status == .exited(0), "\(output.standardErrorText)")
        let parts = output.standardOutputText.components(separatedBy: "---\n")
        try #require(parts.count == 2, "\(output.standardOutputText)")

        let leases = parts[0].split(separator: "\n")
        try #require(leases.count == 2, "one header and one lease: \(parts[0])")
        #expect(
            leases[0].split(separator: " ") == ["LEASE", "STATE", "HOST", "PROFILE", "EXPIRES", "SECRETS", "COMMAND"])
        #expect(leases[1].hasPrefix("ls-"), "\(leases[1])")
        for cell in ["  active  ", "  testhost  ", "  listing  ", "  TOKEN  ", "  /bin/true"] {
            #expect(leases[1].contains(cell), "\(leases[1])")
        }
        #expect(Self.cellStarts(leases[0]).count == 7)
        #expect(Self.cellStarts(leases[0]) == Self.cellStarts(leases[1]), "columns not aligned:\n\(parts[0])")

        let sessions = parts[1].split(separator: "\n")
        try #require(sessions.count == 2, "one header and one session: \(parts[1])")
        #expect(sessions[0].hasPrefix("SESSION  "), "\(sessions[0])")
        #expect(sessions[0].hasSuffix("ACTIVE LEASES"), "\(sessions[0])")
        #expect(sessions[1].hasPrefix("s-"), "\(sessions[1])")
        #expect(sessions[1].contains("@testhost  "), "\(sessions[1])")
        #expect(sessions[1].hasSuffix("  1"), "one active lease: \(sessions[1])")
        #expect(Self.cellStarts(sessions[0]).count == 4)
        #expect(Self.cellStarts(sessions[0]) == Self.cellStarts(sessions[1]), "columns not aligned:\n\(parts[1])")
        #expect(!output.standardOutputText.contains(Self.tokenValue))
    }

    @Test func emptyListingsSaySoWithoutAHeader() throws {
        let broker = try Self.broker()
        defer { broker.stop() }
        #expect(try broker.cli(["leases"]).standardOutputText == "no leases\n")
        #expect(try broker.cli(["sessions"]).standardOutputText == "no sessions\n")
    }

    /// A reload the broker refuses exits as `policy check` of the same file does (65 invalid, 78
    /// unsafe permissions), shows the file's errors at FILE:LINE:COLUMN, and the policy in force
    /// stays: the same request is still granted.
    @Test(arguments: [(false, Int32(65)), (true, Int32(78))])
    func refusedReloadExitsAsPolicyCheckAndShowsWhere(unsafe: Bool, status: Int32) throws {
        let broker = try Self.broker()
        defer { broker.stop() }
        let good = FileIO.readText(broker.policyPath)
        if unsafe {
            try broker.writePolicy(good, mode: 0o664)
        } else {
            try broker.writePolicy(good.replacingOccurrences(of: "    allowedCommands:", with: "    allowedCommand:"))
        }
        let reload = try broker.cli(["reload"])
        #expect(reload.status == .exited(status), "\(reload.standardErrorText)")
        #expect(
            reload.standardErrorText.hasPrefix("secret-broker: reload refused, the policy in force stays:\n"),
            "\(reload.standardErrorText)")
        let check = try broker.cli(["policy", "check", broker.policyPath])
        #expect(check.status == .exited(status), "\(check.standardErrorText)")
        if unsafe {
            #expect(
                reload.standardErrorText.contains("\(broker.policyPath) is writable by group or others"),
                "\(reload.standardErrorText)")
        } else {
            let location = "\(broker.policyPath):5:5: error: unknown key allowedCommand"
            #expect(reload.standardErrorText.contains(location), "\(reload.standardErrorText)")
            #expect(check.standardErrorText.contains(location), "\(check.standardErrorText)")
        }
        let granted = try Self.inSession(broker, #""$SECRETS" run --quiet listing -- /bin/true"#)
        #expect(granted.status == .exited(0), "the old policy is gone: \(granted.standardErrorText)")
    }

    /// `serve` shows each policy warning once, as `policy check` shows it
    /// (`FILE:LINE:COLUMN: warning: MESSAGE`), not as `warning: FILE:…: warning: …`.
    @Test func policyWarningsSayWarningOnce() throws {
        let broker = try BrokerFixture(policy: "version: 1\nprofiles:\n  open:\n    allowedHosts: [testhost]\n")
        defer { broker.stop() }
        let expected = [
            "\(broker.policyPath):3:3: warning: profile open has no allowedRemoteUsers: any remote user may use it",
            "\(broker.policyPath):3:3: warning: profile open has no allowedPaths: it may be used from any directory",
            "\(broker.policyPath):3:3: warning: profile open has no allowedCommands: it may be used to run any command",
        ]
        let logged = broker.log.split(separator: "\n").filter { $0.contains("warning") }.map(String.init)
        #expect(logged == expected.map { "secret-broker: \($0)" }, "\(broker.log)")
        let check = try broker.cli(["policy", "check", broker.policyPath])
        #expect(
            check.standardOutputText.split(separator: "\n").filter { $0.contains("warning") }.map(String.init)
                == expected)
    }
}
