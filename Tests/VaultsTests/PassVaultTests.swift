import AgentboxCore
import Synchronization
import TestSupport
import Testing

@testable import Vaults

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Against the real `pass` and a throwaway GnuPG key.
@Suite struct PassVaultTests {
    @Test func multiLineEntryComesBackByteExactMinusOneNewline() throws {
        let store = try PassStoreFixture()
        defer { store.stop() }
        let vault = PassVault(environment: store.brokerEnvironment())
        let cases: [(String, [UInt8], [UInt8])] = [
            (
                "multi", Array("first line\nuser: alex\n\n  indented $HOME \"q\"\n".utf8),
                Array("first line\nuser: alex\n\n  indented $HOME \"q\"".utf8)
            ),
            ("no-newline", Array("pw-without-newline".utf8), Array("pw-without-newline".utf8)),
            ("two-newlines", Array("pw\n\n".utf8), Array("pw\n".utf8)),
            ("binary/ish", Array("пароль=✓\n".utf8) + [0xff, 0x01], Array("пароль=✓\n".utf8) + [0xff, 0x01]),
        ]
        for (path, stored, expected) in cases {
            try store.insert(path: path, value: stored)
            #expect(holds(try vault.read(SecretReference("pass://\(path)")), expected), "entry \(path) differs")
        }
    }

    @Test func fieldAndPasswordAliasFollowPassConventions() throws {
        let store = try PassStoreFixture()
        defer { store.stop() }
        let vault = PassVault(environment: store.brokerEnvironment())
        try store.insert(
            path: "github/bot", value: Array("tok-line-one\nlogin: alex-bot\nurl:https://x\nlogin: second\n".utf8))
        #expect(holds(try vault.read(SecretReference("pass://github/bot#password")), "tok-line-one"))
        #expect(holds(try vault.read(SecretReference("pass://github/bot#login")), "alex-bot"))
        #expect(holds(try vault.read(SecretReference("pass://github/bot#url")), "https://x"))
        let missing = vaultError { () throws(VaultError) in try vault.read(SecretReference("pass://github/bot#token")) }
        #expect(missing == .notFound(reference: "pass://github/bot#token", what: "field token in entry github/bot"))
        #expect(!"\(missing!)".contains("tok-line-one"))
    }

    @Test func missingEntryIsNotFound() throws {
        let store = try PassStoreFixture()
        defer { store.stop() }
        let vault = PassVault(environment: store.brokerEnvironment())
        let error = try #require(
            vaultError { () throws(VaultError) in try vault.read(SecretReference("pass://billing/nope")) })
        guard case .notFound = error else {
            Issue.record("expected notFound, got \(error)")
            return
        }
        #expect("\(error)".contains("billing/nope"))
    }

    @Test func folderListingIsNeverReturnedAsASecret() throws {
        let store = try PassStoreFixture()
        defer { store.stop() }
        try store.insert(path: "team/db", value: Array(sentinel("folder").utf8))
        let vault = PassVault(environment: store.brokerEnvironment())
        let error = vaultError { () throws(VaultError) in try vault.read(SecretReference("pass://team")) }
        guard case .notFound = try #require(error) else {
            Issue.record("expected notFound")
            return
        }
    }

    @Test func lockedKeyIsADecryptErrorThatNeverShowsTheValue() throws {
        let store = try PassStoreFixture()
        defer { store.stop() }
        let value = sentinel("locked")
        try store.insert(path: "billing/db", value: Array(value.utf8))
        try store.makeKeyUnusable()
        let vault = PassVault(environment: store.brokerEnvironment())
        let error = try #require(
            vaultError { () throws(VaultError) in try vault.read(SecretReference("pass://billing/db")) })
        guard case .decryptFailed(_, let reason) = error else {
            Issue.record("expected decryptFailed, got \(error)")
            return
        }
        #expect(reason == "gpg: decryption failed: No secret key")
        #expect(!"\(error)".contains(value))
        #expect(!"\(error)".contains("\n"))
    }

    @Test func passMissingFromPathIsReportedAsNotInstalled() throws {
        let store = try PassStoreFixture()
        defer { store.stop() }
        try store.insert(path: "x", value: Array("v".utf8))
        var environment = store.brokerEnvironment()
        environment["PATH"] = ""
        let error = vaultError { () throws(VaultError) in
            try PassVault(environment: environment).read(SecretReference("pass://x"))
        }
        #expect(error == .backendNotInstalled(reference: "pass://x", program: "pass"))
    }

    @Test(arguments: [
        "pass://-c", "pass://--clip=1", "pass://../etc/passwd", "pass://a/../../b", "pass:///abs", "pass://a//b",
    ])
    func entryPathCannotSmuggleAnOptionOrClimbOutOfTheStore(_ text: String) throws {
        let vault = PassVault(environment: ["PATH": "/usr/bin:/bin", "PASSWORD_STORE_DIR": "/nonexistent"])
        let error = vaultError { () throws(VaultError) in try vault.read(SecretReference(text)) }
        guard case .invalidReference = try #require(error) else {
            Issue.record("expected invalidReference for \(text), got \(String(describing: error))")
            return
        }
    }

    @Test func hangingPassIsKilledAfterTheTimeout() throws {
        // A stand-in `pass` that never answers (a pinentry nobody sees looks the same).
        let directory = try TemporaryDirectory(prefix: "abt")
        defer { directory.remove() }
        try directory.write("pass", Array("#!/bin/sh\nexec sleep 60\n".utf8), mode: 0o700)
        try #require(mkdir(directory.file("store"), 0o700) == 0)
        try directory.write("store/slow.gpg", [0])
        let vault = PassVault(
            environment: ["PATH": directory.path + ":/usr/bin:/bin", "PASSWORD_STORE_DIR": directory.file("store")],
            timeout: .milliseconds(300))
        let started = ContinuousClock.now
        let error = vaultError { () throws(VaultError) in try vault.read(SecretReference("pass://slow")) }
        guard case .timedOut(let reference, "pass", _) = try #require(error) else {
            Issue.record("expected timedOut, got \(String(describing: error))")
            return
        }
        #expect(reference == "pass://slow")
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func secretNeverAppearsInAnyProcessArgvWhileStoredAndRead() throws {
        let store = try PassStoreFixture()
        defer { store.stop() }
        let value = sentinel("argv")
        let seen = Mutex<[pid_t]>([])
        let done = Atomic<Bool>(false)
        let watcher = Thread {
            while !done.load(ordering: .relaxed) {
                let hits = ProcessScan.processesWhoseArgumentsContain(Array(value.utf8))
                if !hits.isEmpty { seen.withLock { $0 += hits } }
            }
        }
        try store.insert(path: "watched", value: Array(value.utf8))
        let vault = PassVault(environment: store.brokerEnvironment())
        for _ in 0..<3 {
            #expect(holds(try vault.read(SecretReference("pass://watched")), value))
        }
        done.store(true, ordering: .relaxed)
        watcher.join()
        #expect(seen.withLock { $0 }.isEmpty)
        #expect(ProcessScan.filesContaining(Array(value.utf8), under: store.root.path).isEmpty)
    }
}

/// A joinable pthread for a background watcher.
final class Thread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(
            &handle, nil,
            { context in
                let thread = Unmanaged<Thread>.fromOpaque(context!).takeRetainedValue()
                thread.body()
                return nil
            }, context)
    }

    func join() {
        pthread_join(handle, nil)
    }
}
