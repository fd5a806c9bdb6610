import AgentboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// A private (0700) directory made with `mkdtemp` under `/tmp`, removed with everything in it by
/// `remove()` or when the object goes away.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String
    private var removed = false

    /// `prefix` stays short: GnuPG and sshd sockets live in these directories and Unix socket
    /// paths are limited to 107 bytes.
    public init(prefix: String = "ab") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw FixtureError("mkdtemp /tmp/\(prefix).XXXXXX: \(SystemError("mkdtemp"))")
        }
        path = String(cString: made)
    }

    /// `path/name`.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `path/name` with `mode` and returns the file's path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws -> String {
        try FileIO.write(file(name), bytes, mode: mode)
        return file(name)
    }

    public func remove() {
        if removed { return }
        removed = true
        FileIO.removeTree(path)
    }

    deinit { remove() }
}
