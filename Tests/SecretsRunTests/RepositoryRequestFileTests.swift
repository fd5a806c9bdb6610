import Testing

@testable import SecretsRun

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

@Suite struct RepositoryRequestFileTests {
    private func parse(_ text: String) throws(RepositoryRequestFileErrors) -> RepositoryRequestFile {
        try RepositoryRequestFile.parse(bytes: Array(text.utf8), fileName: ".secrets.yaml")
    }

    private func errors(_ text: String) -> [String] {
        do {
            _ = try parse(text)
            Issue.record("parsed but should not have")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func readsProfileNamesAndTTL() throws {
        let request = try parse("secretProfile: billing-dev\nrequires: [DB_URL, DB_PASSWORD, DB_URL]\nttl: 2h\n")
        #expect(
            request
                == RepositoryRequestFile(
                    secretProfile: "billing-dev", requires: ["DB_URL", "DB_PASSWORD"], ttl: .seconds(7200)))
    }

    @Test func unknownKeyIsAnErrorWithLineAndColumn() {
        #expect(
            errors("secretProfile: dev\nallowedHosts: [\"*\"]\n") == [
                ".secrets.yaml:2:1: unknown key allowedHosts in .secrets.yaml; known keys: secretProfile, requires, ttl"
            ])
    }

    @Test func repositoryCannotSmuggleMalformedNamesOrDurations() {
        #expect(
            errors("requires: [DB_URL, \"A=B\", \"X Y\"]\nttl: forever\nsecretProfile: \"../prod\"\n") == [
                ".secrets.yaml:1:20: each entry of requires must be an environment variable name such as DB_URL",
                ".secrets.yaml:1:27: each entry of requires must be an environment variable name such as DB_URL",
                ".secrets.yaml:2:6: bad ttl: 'forever' is not a duration; write e.g. 30m, 4h or 1h30m",
                ".secrets.yaml:3:16: secretProfile must be a profile name such as billing-dev",
            ])
    }

    @Test func duplicateKeyIsAnError() {
        #expect(errors("ttl: 1h\nttl: 9d\n") == [".secrets.yaml:2:1: duplicate key ttl; keep one"])
    }

    @Test func exampleRequestFileParses() throws {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        let file = try #require(fopen(path + "/profiles/secrets.example.yaml", "rb"))
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: 65536)
        let count = fread(&bytes, 1, bytes.count, file)
        let request = try RepositoryRequestFile.parse(bytes: Array(bytes[0..<count]), fileName: "secrets.example.yaml")
        #expect(request.secretProfile == "billing-dev")
    }

    @Test func findWalksUpToTheNearestRequestFile() throws {
        var template = Array("/tmp/agentbox-request-XXXXXX".utf8CString)
        let root = try #require(
            template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        #expect(mkdir(root + "/repo", 0o700) == 0)
        #expect(mkdir(root + "/repo/src", 0o700) == 0)
        #expect(mkdir(root + "/repo/src/deep", 0o700) == 0)
        let file = root + "/repo/.secrets.yaml"
        let fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        close(fd)
        defer {
            unlink(file)
            rmdir(root + "/repo/src/deep/.secrets.yaml")
            rmdir(root + "/repo/src/deep")
            rmdir(root + "/repo/src")
            rmdir(root + "/repo")
            rmdir(root)
        }
        #expect(RepositoryRequestFile.find(startingAt: root + "/repo/src/deep") == file)
        #expect(RepositoryRequestFile.find(startingAt: root + "/repo") == file)
        #expect(
            RepositoryRequestFile.find(startingAt: root) == nil || RepositoryRequestFile.find(startingAt: root) != file)
        // A directory named .secrets.yaml is not a request file.
        #expect(mkdir(root + "/repo/src/deep/.secrets.yaml", 0o700) == 0)
        #expect(RepositoryRequestFile.find(startingAt: root + "/repo/src/deep") == file)
        #expect(RepositoryRequestFile.find(startingAt: "relative/dir") == nil)
    }
}
