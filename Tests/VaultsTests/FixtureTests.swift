import AgentboxCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The fixtures themselves: each works, and leaves nothing behind.
@Suite struct FixtureTests {
    @Test func temporaryDirectoryIsPrivateAndRemovedWithItsContents() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a", [1, 2, 3])
        try #require(mkdir(directory.file("sub"), 0o700) == 0)
        try directory.write("sub/b", [4])
        var info = stat()
        #expect(stat(directory.path, &info) == 0 && info.st_mode & 0o777 == 0o700)
        directory.remove()
        #expect(stat(directory.path, &info) != 0)
    }

    @Test func passStoreRoundTripAndCleanup() throws {
        let store = try PassStoreFixture()
        let value = Array(sentinel("fixture").utf8)
        try store.insert(path: "round/trip", value: value)
        let output = try ChildProcess.run(
            executable: "/usr/bin/pass", arguments: ["show", "round/trip"], environment: store.brokerEnvironment())
        #expect(output.status.isSuccess)
        #expect(output.standardOutput.constantTimeEquals(SecretBytes(value)))
        let home = store.gnupgHome
        store.stop()
        var info = stat()
        #expect(stat(home, &info) != 0)
        #expect(stat(store.root.path, &info) != 0)
    }

    @Test func sshRoundTripReachesTheTestAccount() throws {
        let server = try SSHServerFixture()
        defer { server.stop() }
        let account = try TestAccount()
        defer { account.remove() }
        let config = try server.writeClientConfig(for: account)
        let output = try ChildProcess.run(
            executable: "/usr/bin/ssh", arguments: ["-F", config, "remote-devbox-1", "id", "-un"],
            environment: ["PATH": "/usr/bin:/bin", "HOME": server.directory.path], timeout: .seconds(30))
        #expect(output.status.isSuccess, "ssh failed: \(output.standardErrorText)\n\(server.log)")
        #expect(output.standardOutputText == "\(account.name)\n")
    }

    @Test func sshRefusesAnUnpinnedHostKey() throws {
        let server = try SSHServerFixture()
        defer { server.stop() }
        let account = try TestAccount()
        defer { account.remove() }
        let config = try server.writeClientConfig(for: account)
        try FileIO.write(server.directory.file("known_hosts_\(account.name)"), "")
        let output = try ChildProcess.run(
            executable: "/usr/bin/ssh", arguments: ["-F", config, "remote-devbox-1", "true"],
            environment: ["PATH": "/usr/bin:/bin", "HOME": server.directory.path], timeout: .seconds(30))
        #expect(!output.status.isSuccess)
    }

    @Test func testAccountIsDeletedWithItsHomeAndRuntimeDirectory() throws {
        let account = try TestAccount()
        let name = account.name
        #expect(getpwnam(name) != nil)
        let runtime = try account.makeRuntimeDirectory()
        var info = stat()
        #expect(stat(runtime, &info) == 0 && info.st_uid == account.uid && info.st_mode & 0o777 == 0o700)
        account.remove()
        #expect(getpwnam(name) == nil)
        #expect(stat(runtime, &info) != 0)
        #expect(stat(account.home, &info) != 0)
        #expect(stat(account.clientKeyPath, &info) != 0)
    }

    @Test func processScanFindsAByteStringInAnotherProcessArgv() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let marker = sentinel("scan")
        let child = try ChildProcess.launch(
            executable: "/bin/sh", arguments: ["-c", "sleep 30; true", marker], environment: ["PATH": "/usr/bin:/bin"],
            logPath: directory.file("log"))
        defer { child.terminate() }
        var found: [pid_t] = []
        for _ in 0..<200 where found.isEmpty {
            found = ProcessScan.processesWhoseArgumentsContain(Array(marker.utf8))
            if found.isEmpty { usleep(5_000) }
        }
        #expect(found.contains(child.pid))
        try directory.write("file", Array("xx\(marker)yy".utf8))
        #expect(ProcessScan.filesContaining(Array(marker.utf8), under: directory.path) == [directory.file("file")])
    }
}
