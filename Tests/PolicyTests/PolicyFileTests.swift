import AgentboxCore
import Testing

@testable import Policy

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Loading from disk: file safety, and the shipped examples.
@Suite struct PolicyFileTests {
    /// A fresh private directory under /tmp holding `policy.yaml` with `text`.
    private func writePolicy(_ text: String, mode: mode_t = 0o600) throws -> (directory: String, path: String) {
        var template = Array("/tmp/agentbox-policy-XXXXXX".utf8CString)
        let directory = try #require(
            template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        let path = directory + "/policy.yaml"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count)
        close(fd)
        #expect(chmod(path, mode) == 0)
        return (directory, path)
    }

    private func remove(_ directory: String) {
        unlink(directory + "/policy.yaml")
        rmdir(directory)
    }

    private func readFile(_ path: String) throws -> [UInt8] {
        let file = try #require(fopen(path, "rb"))
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }

    private var repositoryRoot: String {
        // Tests/PolicyTests/PolicyFileTests.swift → the package root.
        var path = #filePath
        for _ in 0..<3 { path = FileSafety.parent(of: path) }
        return path
    }

    @Test func privatePolicyFileLoads() throws {
        let file = try writePolicy(samplePolicy)
        defer { remove(file.directory) }
        let policy = try PolicyLoader.load(path: file.path)
        #expect(policy.profiles.map(\.name) == ["billing-dev", "github-agent", "open-dev"])
        #expect(policy.displayName == "policy.yaml")
    }

    @Test func groupWritablePolicyIsRefused() throws {
        let file = try writePolicy(samplePolicy, mode: 0o620)
        defer { remove(file.directory) }
        #expect(throws: PolicyError.unsafeFile(.writableByOthers(path: file.path, mode: 0o100620))) {
            try PolicyLoader.load(path: file.path)
        }
    }

    @Test func worldWritablePolicyDirectoryIsRefused() throws {
        let file = try writePolicy(samplePolicy)
        defer { remove(file.directory) }
        #expect(chmod(file.directory, 0o777) == 0)
        do {
            _ = try PolicyLoader.load(path: file.path)
            Issue.record("a policy in a world-writable directory loaded")
        } catch {
            guard case .unsafeFile(.writableByOthers(let path, _)) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == file.directory)
        }
    }

    @Test func missingPolicyIsReportedNotTreatedAsEmpty() {
        #expect(throws: PolicyError.unsafeFile(.missing(path: "/nonexistent/policy.yaml"))) {
            try PolicyLoader.load(path: "/nonexistent/policy.yaml")
        }
    }

    @Test func fifoInPlaceOfThePolicyDoesNotHangTheBroker() throws {
        var template = Array("/tmp/agentbox-policy-XXXXXX".utf8CString)
        let directory = try #require(
            template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        let path = directory + "/policy.yaml"
        #expect(mkfifo(path, 0o600) == 0)
        defer { remove(directory) }
        #expect(throws: PolicyError.unsafeFile(.notRegularFile(path: path))) { try PolicyLoader.load(path: path) }
    }

    @Test func examplePolicyInProfilesLoadsCleanly() throws {
        // Parsed rather than loaded: a checkout's permissions depend on the umask of whoever cloned it.
        let path = repositoryRoot + "/profiles/policy.example.yaml"
        let policy = try PolicyLoader.parse(bytes: try readFile(path), path: path)
        #expect(policy.warnings.isEmpty)
        let billing = try #require(policy.profile(named: "billing-dev"))
        #expect(!billing.isAgent)
        #expect(billing.secrets.map(\.name) == ["DB_URL", "DB_PASSWORD"])
        let agent = try #require(policy.profile(named: "github-agent"))
        #expect(agent.isAgent)
        #expect(agent.requireApproval)
        #expect(agent.secrets.map(\.secretClass) == [.inject, .proxy, .never])
        #expect(agent.onDisconnect == .grace(.seconds(300)))
        #expect(agent.secrets[1].proxy?.maxBodyBytes == 4_194_304)
    }
}
