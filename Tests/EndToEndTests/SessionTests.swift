import AgentboxCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The session's life: it ends with devssh, and what a killed connection leaves behind on the
/// remote does not get in the next connection's way.
@Suite struct SessionTests {
    @Test func endingDevsshEndsTheSessionAndRemovesItsSocket() throws {
        let world = try TestSecrets.world()
        defer { world.stop() }
        let output = try world.run("\(world.secrets) status; echo \"socket=$SECRETS_SOCKET\"")
        #expect(output.status == .exited(0), "\(redact(output.standardErrorText))")
        let lines = output.standardOutputText.split(separator: "\n")
        let sessionLine = try #require(
            lines.first { $0.hasPrefix("session: ") }, "\(redact(output.standardOutputText))")
        let sessionId = String(sessionLine.split(separator: " ")[1])
        #expect(sessionLine.contains("host \(RemoteWorld.hostAlias) user \(world.account.name)"))
        #expect(lines.contains("socket=\(world.runtimeDirectory)/agentbox/\(sessionId).sock"))

        var info = stat()
        let laptopSocket = world.broker.directory.file("r/sessions/\(sessionId).sock")
        #expect(lstat(laptopSocket, &info) != 0, "the session socket is still on the laptop")
        #expect(try world.sessions().allSatisfy { $0.sessionId != sessionId })
        let remoteSocket = "\(world.runtimeDirectory)/agentbox/\(sessionId).sock"
        #expect(lstat(remoteSocket, &info) != 0, "the session socket is still on the remote")
        let events = try world.auditEvents().filter { $0.session == sessionId }
        #expect(events.contains { $0.event == "session-start" })
        #expect(events.contains { $0.event == "session-end" && $0.reason == "devssh ended the session" })
    }

    @Test func staleRemoteSocketFromAKilledConnectionDoesNotBlockTheNextDevssh() throws {
        let world = try TestSecrets.world()
        defer { world.stop() }
        let viaDefaultSocket = world.secretsRun(
            "billing-dev", "/usr/bin/printenv API_TOKEN", prefix: "env -u SECRETS_SOCKET ")
        let viaSessionSocket = world.secretsRun("billing-dev", "/usr/bin/printenv API_TOKEN")
        let expected = TestSecrets.apiToken + [0x0A]

        // A dead socket owned by the user where the default socket goes.
        let remoteDirectory = world.runtimeDirectory + "/agentbox"
        try makeOwnedDirectory(remoteDirectory, for: world.account)
        try makeDeadSocket(remoteDirectory + "/broker.sock", for: world.account)
        let first = try world.run(viaDefaultSocket, printsSecrets: true)
        #expect(first.status == .exited(0), "after a dead socket: \(redact(first.standardErrorText))")
        #expect(first.standardOutputBytes == expected, "after a dead socket: output differs")

        // A connection killed with SIGKILL, devssh and its ssh processes alike, mid-session.
        let killed = try world.start("sleep 30")
        let session = try #require(try waitForSession(world).first)
        try waitUntil("the killed session's socket is forwarded") {
            var info = stat()
            return lstat(remoteDirectory + "/\(session.sessionId).sock", &info) == 0
                && lstat(remoteDirectory + "/broker.sock", &info) == 0
        }
        let sshProcesses = ProcessScan.commandLines().filter {
            $0.commandLine.firstRange(of: Array("devssh/\(session.sessionId)/c".utf8)) != nil
        }.map(\.pid)
        #expect(!sshProcesses.isEmpty, "no ssh master found for the session")
        killed.child.send(SIGKILL)
        for pid in sshProcesses { kill(pid, SIGKILL) }
        #expect(killed.wait() == 128 + SIGKILL)

        for (what, command) in [("default socket", viaDefaultSocket), ("session socket", viaSessionSocket)] {
            let next = try world.run(command, printsSecrets: true)
            #expect(next.status == .exited(0), "after a killed connection, \(what): \(redact(next.standardErrorText))")
            #expect(next.standardOutputBytes == expected, "after a killed connection, \(what): output differs")
        }
        // The broker notices that the killed devssh is gone and ends its session.
        try waitUntil("the broker ends the killed session") {
            try world.sessions().allSatisfy { $0.sessionId != session.sessionId }
        }
        #expect(
            try world.auditEvents().contains {
                $0.event == "session-end" && $0.session == session.sessionId && $0.reason == "devssh exited"
            })
        #expect(world.placesHolding(TestSecrets.apiToken) == [], "API_TOKEN found where it must not be")
    }

    private func waitForSession(_ world: RemoteWorld) throws -> [SessionEntry] {
        var sessions: [SessionEntry] = []
        try waitUntil("devssh registers its session") {
            sessions = try world.sessions()
            return !sessions.isEmpty
        }
        return sessions
    }
}

/// Makes `path` (0700) owned by the account, as the remote preparation would.
func makeOwnedDirectory(_ path: String, for account: TestAccount) throws {
    guard mkdir(path, 0o700) == 0 || errno == EEXIST, chown(path, account.uid, account.gid) == 0 else {
        throw FixtureError("mkdir \(path): \(SystemError("mkdir"))")
    }
}

/// Binds a Unix socket at `path`, closes it (nobody listens any more) and gives the file to the account.
func makeDeadSocket(_ path: String, for account: TestAccount) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FixtureError("socket: \(SystemError("socket"))") }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw FixtureError("path too long") }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard bound == 0, chown(path, account.uid, account.gid) == 0 else {
        throw FixtureError("bind \(path): \(SystemError("bind"))")
    }
}
