import AgentboxCore
import TestSupport
import Testing

@testable import Vaults

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite struct FileVaultTests {
    let vault = FileVault()

    @Test func trickyValuesComeBackByteExact() throws {
        let directory = try TemporaryDirectory(prefix: "abf")
        defer { directory.remove() }
        let content = """
            # a comment line
              # an indented comment

            PLAIN=a=b$HOME "q" 'x' #not-a-comment
            QUOTED="line1\\nline2\\n"
            ESCAPES="say \\"hi\\" \\\\ end\\tTAB"
            UNICODE=пароль✓ 🔑
            EMPTY=
            CRLF=value\r
            LAST="=$\\"\\\\"
            """
        let path = try directory.write("dev.env", Array(content.utf8))
        let expected: [(String, String)] = [
            ("PLAIN", "a=b$HOME \"q\" 'x' #not-a-comment"),
            ("QUOTED", "line1\nline2\n"),
            ("ESCAPES", "say \"hi\" \\ end\tTAB"),
            ("UNICODE", "пароль✓ 🔑"),
            ("EMPTY", ""),
            ("CRLF", "value"),
            ("LAST", "=$\"\\"),
        ]
        for (key, value) in expected {
            let secret = try vault.read(SecretReference("file://\(path)#\(key)"))
            #expect(holds(secret, value), "value of \(key) differs")
        }
    }

    @Test func wholeFileIsTheValueWithoutAKey() throws {
        let directory = try TemporaryDirectory(prefix: "abf")
        defer { directory.remove() }
        let bytes: [UInt8] = Array("-----BEGIN KEY-----\nA=B\n\"x\"\n".utf8) + [0xff, 0x00, 0x0a]
        let path = try directory.write("key.pem", bytes)
        #expect(holds(try vault.read(SecretReference("file://\(path)")), bytes))
    }

    @Test(arguments: [0o640, 0o604, 0o620, 0o602, 0o660, 0o644])
    func groupOrOtherAccessibleVaultFileIsRefused(_ mode: Int) throws {
        let directory = try TemporaryDirectory(prefix: "abf")
        defer { directory.remove() }
        let value = sentinel("perm")
        let path = try directory.write("dev.env", Array("KEY=\(value)\n".utf8), mode: mode_t(mode))
        let error = vaultError { () throws(VaultError) in try vault.read(SecretReference("file://\(path)#KEY")) }
        guard case .unsafeFile = try #require(error) else {
            Issue.record("expected unsafeFile, got \(String(describing: error))")
            return
        }
        #expect(!"\(error!)".contains(value))
    }

    @Test func vaultFileOwnedBySomeoneElseIsRefused() throws {
        try #require(getuid() == 0, "needs root to chown")
        let directory = try TemporaryDirectory(prefix: "abf")
        defer { directory.remove() }
        let path = try directory.write("dev.env", Array("KEY=\(sentinel("owner"))\n".utf8))
        try #require(chown(path, 65534, 65534) == 0)
        let error = vaultError { () throws(VaultError) in try vault.read(SecretReference("file://\(path)#KEY")) }
        #expect(error == .unsafeFile(reference: "file://\(path)#KEY", .ownedBySomeoneElse(path: path, owner: 65534)))
    }

    @Test func symlinkToAGroupReadableFileIsRefused() throws {
        let directory = try TemporaryDirectory(prefix: "abf")
        defer { directory.remove() }
        let target = try directory.write("shared.env", Array("KEY=\(sentinel("link"))\n".utf8), mode: 0o644)
        let link = directory.file("private.env")
        try #require(symlink(target, link) == 0)
        let error = vaultError { () throws(VaultError) in try vault.read(SecretReference("file://\(link)#KEY")) }
        guard case .unsafeFile = try #require(error) else {
            Issue.record("expected unsafeFile")
            return
        }
    }

    @Test func missingKeyNamesTheKeyAndNoValue() throws {
        let directory = try TemporaryDirectory(prefix: "abf")
        defer { directory.remove() }
        let value = sentinel("other")
        let path = try directory.write("dev.env", Array("OTHER=\(value)\nQ=\"\(value)\"\n".utf8))
        let error = try #require(
            vaultError { () throws(VaultError) in try vault.read(SecretReference("file://\(path)#WANTED")) })
        #expect(error == .notFound(reference: "file://\(path)#WANTED", what: "key WANTED in \(path)"))
        #expect(!"\(error)".contains(value))
    }

    @Test func malformedLineIsReportedByNumberWithoutEchoingIt() throws {
        let directory = try TemporaryDirectory(prefix: "abf")
        defer { directory.remove() }
        let value = sentinel("pasted")
        for (content, line) in [
            ("GOOD=1\n\(value)\n", 2), ("A=\"\(value)\n", 1), ("A=\"\(value)\" trailing\n", 1),
            ("A=\"\\q\(value)\"\n", 1), ("A=1\nA=\(value)\n", 2), (" A=\(value)\n", 1), ("1A=\(value)\n", 1),
        ] {
            let path = try directory.write("bad.env", Array(content.utf8))
            let error = try #require(
                vaultError { () throws(VaultError) in try vault.read(SecretReference("file://\(path)#A")) })
            guard case .malformedFile(_, _, let reported, _) = error else {
                Issue.record("expected malformedFile for line \(line)")
                continue
            }
            #expect(reported == line)
            #expect(!"\(error)".contains(value))
        }
    }

    @Test func missingFileAndRelativePathAreRefused() throws {
        let missing = vaultError { () throws(VaultError) in
            try vault.read(SecretReference("file:///nonexistent/ab.env#K"))
        }
        #expect(missing == .notFound(reference: "file:///nonexistent/ab.env#K", what: "file /nonexistent/ab.env"))
        let relative = vaultError { () throws(VaultError) in try vault.read(SecretReference("file://dev.env#K")) }
        guard case .invalidReference = try #require(relative) else {
            Issue.record("expected invalidReference")
            return
        }
    }
}
