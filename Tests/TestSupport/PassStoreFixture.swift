import AgentboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// A throwaway password store: its own GnuPG home with a fresh passphrase-less key (unique uid),
/// `pass init` into a temporary `PASSWORD_STORE_DIR`, and a `stop()` that kills the home's
/// `gpg-agent` and removes everything.
///
/// Paths are kept short (`/tmp/abp.XXXXXX/g`) because gpg-agent's sockets live in the GnuPG home.
public final class PassStoreFixture: @unchecked Sendable {
    public let root: TemporaryDirectory
    public let gnupgHome: String
    public let storeDirectory: String
    /// The unique user id of the generated key, e.g. `agentbox test <abtest-1a2b3c4d@example.invalid>`.
    public let userID: String
    public let keyFingerprint: String
    private var stopped = false

    public init() throws {
        root = try TemporaryDirectory(prefix: "abp")
        gnupgHome = root.file("g")
        storeDirectory = root.file("s")
        userID = "agentbox test <abtest-\(Crypto.randomToken(byteCount: 4))@example.invalid>"
        guard mkdir(gnupgHome, 0o700) == 0 else { throw FixtureError("mkdir \(gnupgHome): \(SystemError("mkdir"))") }
        do {
            try Self.gpg(gnupgHome, ["--quick-gen-key", userID, "default", "default", "never"], passphraseless: true)
            let listing = try Self.gpg(gnupgHome, ["--list-secret-keys", "--with-colons", userID])
            guard
                let line = listing.standardOutputText.split(separator: "\n").first(where: { $0.hasPrefix("fpr:") }),
                let fingerprint = line.split(separator: ":", omittingEmptySubsequences: false).dropFirst(9).first,
                !fingerprint.isEmpty
            else { throw FixtureError("gpg listed no fingerprint for \(userID)") }
            keyFingerprint = String(fingerprint)
            try runTool(
                passExecutable, ["init", keyFingerprint], environment: passEnvironment(gnupgHome, storeDirectory))
        } catch {
            Self.killAgent(gnupgHome)
            root.remove()
            throw error
        }
    }

    /// The variables that point `pass` at this store: `PASSWORD_STORE_DIR` and `GNUPGHOME`.
    public var environment: [String: String] {
        ["PASSWORD_STORE_DIR": storeDirectory, "GNUPGHOME": gnupgHome]
    }

    /// A broker environment using this store: `PATH` and `HOME` from `base`, plus `environment`.
    public func brokerEnvironment(base: [String: String] = ProcessEnvironment.current) -> [String: String] {
        var result: [String: String] = [:]
        result["PATH"] = base["PATH"] ?? toolEnvironment["PATH"]
        result["HOME"] = root.path
        result.merge(environment) { $1 }
        return result
    }

    /// Stores `value` at `path` with `pass insert -m -f`, the value written to pass's standard
    /// input (never its argv), byte for byte.
    public func insert(path: String, value: [UInt8]) throws {
        try runTool(
            passExecutable, ["insert", "-m", "-f", "--", path],
            environment: passEnvironment(gnupgHome, storeDirectory), input: .secret(SecretBytes(value)))
    }

    /// Deletes the secret key from the GnuPG home, so every entry still exists but can no longer
    /// be decrypted (what a locked or missing key looks like to the broker).
    public func makeKeyUnusable() throws {
        try Self.gpg(gnupgHome, ["--yes", "--delete-secret-keys", keyFingerprint])
    }

    /// Kills this home's gpg-agent and removes the home and the store.
    public func stop() {
        if stopped { return }
        stopped = true
        Self.killAgent(gnupgHome)
        root.remove()
    }

    deinit { stop() }

    @discardableResult
    private static func gpg(_ home: String, _ arguments: [String], passphraseless: Bool = false) throws
        -> ChildProcess.Output
    {
        var all = ["--homedir", home, "--batch", "--no-tty"]
        if passphraseless { all += ["--passphrase", ""] }
        return try runTool("/usr/bin/gpg", all + arguments, environment: gpgEnvironment(home))
    }

    private static func killAgent(_ home: String) {
        _ = try? ChildProcess.run(
            executable: "/usr/bin/gpgconf", arguments: ["--homedir", home, "--kill", "all"],
            environment: gpgEnvironment(home), timeout: .seconds(20))
    }
}

private let passExecutable = ChildProcess.find(executable: "pass", inPath: toolEnvironment["PATH"]) ?? "/usr/bin/pass"

private func gpgEnvironment(_ home: String) -> [String: String] {
    var environment = toolEnvironment
    environment["GNUPGHOME"] = home
    environment["HOME"] = FileSafety.parent(of: home)
    return environment
}

private func passEnvironment(_ home: String, _ store: String) -> [String: String] {
    var environment = gpgEnvironment(home)
    environment["PASSWORD_STORE_DIR"] = store
    return environment
}
