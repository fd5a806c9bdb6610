import AgentboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// `pass://path/in/store[#field]`: an entry of the standard Unix password manager, read by
/// running the real `pass show -- PATH`.
///
/// - `pass` is found on the broker's `PATH`; it runs with stdin from `/dev/null`, no terminal,
///   an environment built from an allow-list of the broker's variables (`HOME`, `PATH`, `USER`,
///   `LOGNAME`, `PASSWORD_STORE_DIR`, `PASSWORD_STORE_GPG_OPTS`, `GNUPGHOME`, and the display
///   variables a graphical pinentry needs) plus `LC_ALL=C`, and is killed after `timeout`.
/// - Without a fragment the value is the entry's whole content with exactly one trailing
///   newline removed, so multi-line entries (`pass insert -m`) come back intact.
/// - `#password` is the first line; `#NAME` is the value of the first later line of the form
///   `NAME: value` (pass's metadata convention; blanks after the colon are skipped).
public struct PassVault: VaultBackend {
    public static let defaultTimeout: Duration = .seconds(60)

    /// Variables copied from the broker's environment when set.
    public static let passedThroughVariables = [
        "HOME", "PATH", "USER", "LOGNAME", "PASSWORD_STORE_DIR", "PASSWORD_STORE_GPG_OPTS", "GNUPGHOME",
        "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR",
    ]

    public let environment: [String: String]
    public let timeout: Duration

    /// - Parameters:
    ///   - environment: the broker's environment; `PATH` locates `pass`, the allow-listed
    ///     variables are passed to it.
    ///   - timeout: how long `pass` (and a pinentry it may show) may take.
    public init(environment: [String: String] = ProcessEnvironment.current, timeout: Duration = defaultTimeout) {
        self.environment = environment
        self.timeout = timeout
    }

    /// The exact environment `pass` runs with.
    public var childEnvironment: [String: String] {
        var result: [String: String] = ["LC_ALL": "C"]
        for name in Self.passedThroughVariables {
            if let value = environment[name] { result[name] = value }
        }
        return result
    }

    /// The password store directory `pass` will use.
    public var storeDirectory: String {
        if let dir = environment["PASSWORD_STORE_DIR"], !dir.isEmpty { return dir }
        return StandardLocations(environment: environment).home + "/.password-store"
    }

    public func read(_ reference: SecretReference) throws(VaultError) -> SecretBytes {
        let path = reference.path
        try Self.validate(entryPath: path, reference: reference.raw)
        if reference.fragment == "" {
            throw .invalidReference(reference: reference.raw, reason: "empty field name after #")
        }
        guard let pass = ChildProcess.find(executable: "pass", inPath: environment["PATH"]) else {
            throw .backendNotInstalled(reference: reference.raw, program: "pass")
        }
        // `pass show` on a folder prints a listing and succeeds; only a real entry is a secret.
        var info = stat()
        let entryFile = "\(storeDirectory)/\(path).gpg"
        guard stat(entryFile, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw .notFound(reference: reference.raw, what: "entry \(path) in the password store \(storeDirectory)")
        }

        let output: ChildProcess.Output
        do {
            output = try ChildProcess.run(
                executable: pass, arguments: ["show", "--", path], environment: childEnvironment, input: .null,
                timeout: timeout)
        } catch {
            switch error {
            case .timedOut(_, let seconds):
                throw .timedOut(reference: reference.raw, program: "pass", seconds: seconds)
            case .executableNotFound:
                throw .backendNotInstalled(reference: reference.raw, program: "pass")
            default:
                throw .backendFailed(
                    reference: reference.raw, program: "pass", status: "not started", reason: "\(error)")
            }
        }
        guard output.status.isSuccess else {
            throw Self.classifyFailure(output, reference: reference.raw, path: path)
        }
        let value = output.standardOutput.withUnsafeBytes { PassEntry.value(in: $0, field: reference.fragment) }
        guard let value else {
            throw .notFound(reference: reference.raw, what: "field \(reference.fragment ?? "") in entry \(path)")
        }
        return value
    }

    /// Refuses entry paths that `pass` would treat as options or that climb out of the store.
    static func validate(entryPath path: String, reference: String) throws(VaultError) {
        if path.hasPrefix("-") || path.hasPrefix("/") || path.hasSuffix("/") {
            throw .invalidReference(reference: reference, reason: "a pass entry path must be relative, like billing/db")
        }
        if path.split(separator: "/", omittingEmptySubsequences: false).contains(where: {
            $0 == ".." || $0 == "." || $0.isEmpty
        }) {
            throw .invalidReference(reference: reference, reason: "a pass entry path may not contain '.', '..' or '//'")
        }
    }

    /// Maps a failed `pass show` to an error from its exit status and first meaningful stderr line.
    static func classifyFailure(_ output: ChildProcess.Output, reference: String, path: String) -> VaultError {
        let reason = scrubbedReason(output.standardError, withholding: output.standardOutput)
        let text = output.standardErrorText
        if text.contains("is not in the password store") {
            return .notFound(reference: reference, what: "entry \(path) in the password store")
        }
        if output.status == .exited(127) || text.contains("command not found") {
            return .backendNotInstalled(reference: reference, program: "gpg (needed by pass)")
        }
        let decryptSigns = [
            "decryption failed", "No secret key", "Bad passphrase", "Operation cancelled", "pinentry",
            "Inappropriate ioctl", "No such file or directory", "can't connect to the agent", "Timeout",
        ]
        if text.contains("gpg:") && decryptSigns.contains(where: { text.contains($0) }) {
            return .decryptFailed(reference: reference, reason: reason)
        }
        return .backendFailed(reference: reference, program: "pass", status: "\(output.status)", reason: reason)
    }

    /// One line of the tool's error output, safe to show: the first line that reports a failure
    /// or error (gpg may print informational lines first), else the first non-empty line;
    /// printable ASCII only, at most 200 characters, and withheld if it contains any part of
    /// what the tool printed on standard output.
    static func scrubbedReason(_ standardError: [UInt8], withholding standardOutput: SecretBytes) -> String {
        let lines = standardError.split(separator: UInt8(ascii: "\n")).map { Array($0) }
        let isReport: ([UInt8]) -> Bool = { line in
            let lower = String(decoding: line, as: UTF8.self).lowercased()
            return lower.contains("fail") || lower.contains("error")
        }
        guard let chosen = lines.first(where: isReport) ?? lines.first(where: { !$0.isEmpty }) else { return "" }
        var cleaned = chosen.filter { $0 >= 0x20 && $0 < 0x7f }
        if cleaned.count > 200 { cleaned = Array(cleaned[0..<200]) }
        let leaks = standardOutput.withUnsafeBytes { out -> Bool in
            for line in out.split(separator: UInt8(ascii: "\n")) where line.count >= 4 {
                if cleaned.firstRange(of: Array(line)) != nil { return true }
            }
            return false
        }
        return leaks ? "(reason withheld: it repeated entry content)" : String(decoding: cleaned, as: UTF8.self)
    }
}

/// Reads the parts of a decrypted pass entry.
enum PassEntry {
    /// The whole entry minus one trailing newline (`field == nil`), its first line
    /// (`"password"`), or the value of the first `field: value` line after the first.
    static func value(in content: UnsafeRawBufferPointer, field: String?) -> SecretBytes? {
        let newline = UInt8(ascii: "\n")
        guard let field else {
            let end = content.last == newline ? content.count - 1 : content.count
            return SecretBytes(UnsafeRawBufferPointer(rebasing: content[0..<end]))
        }
        let firstEnd = content.firstIndex(of: newline) ?? content.count
        if field == "password" {
            return SecretBytes(UnsafeRawBufferPointer(rebasing: content[0..<firstEnd]))
        }
        let prefix = Array(field.utf8) + [UInt8(ascii: ":")]
        var start = firstEnd + 1
        while start < content.count {
            var end = start
            while end < content.count && content[end] != newline { end += 1 }
            let line = UnsafeRawBufferPointer(rebasing: content[start..<end])
            if line.count >= prefix.count && line.prefix(prefix.count).elementsEqual(prefix) {
                var from = prefix.count
                while from < line.count && (line[from] == UInt8(ascii: " ") || line[from] == UInt8(ascii: "\t")) {
                    from += 1
                }
                var to = line.count
                if to > from && line[to - 1] == UInt8(ascii: "\r") { to -= 1 }
                return SecretBytes(UnsafeRawBufferPointer(rebasing: line[from..<to]))
            }
            start = end + 1
        }
        return nil
    }
}
