#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Conventional per-user locations: XDG base directories on Linux, `~/Library` on macOS.
public struct StandardLocations: Sendable {
    public let environment: [String: String]

    public init(environment: [String: String] = ProcessEnvironment.current) {
        self.environment = environment
    }

    public var home: String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        if let account = AccountLookup.account(uid: getuid()), !account.home.isEmpty { return account.home }
        return "/"
    }

    /// `$XDG_CONFIG_HOME` or `~/.config`; `~/Library/Application Support` on macOS.
    public var configHome: String {
        #if os(macOS)
        return home + "/Library/Application Support"
        #else
        return absolute(environment["XDG_CONFIG_HOME"]) ?? home + "/.config"
        #endif
    }

    /// `$XDG_STATE_HOME` or `~/.local/state`; `~/Library/Logs` on macOS.
    public var stateHome: String {
        #if os(macOS)
        return home + "/Library/Logs"
        #else
        return absolute(environment["XDG_STATE_HOME"]) ?? home + "/.local/state"
        #endif
    }

    /// `$XDG_RUNTIME_DIR`, else `/run/user/UID` when it is ours, else `~/.local/run`.
    /// On macOS, `~/Library/Caches/TemporaryItems` is not private enough; `~/.local/run` is used.
    public var runtimeDirectory: String {
        if let dir = absolute(environment["XDG_RUNTIME_DIR"]) { return dir }
        #if os(Linux)
        let candidate = "/run/user/\(getuid())"
        var info = stat()
        if stat(candidate, &info) == 0, info.st_uid == getuid(), (info.st_mode & S_IFMT) == S_IFDIR {
            return candidate
        }
        #endif
        return home + "/.local/run"
    }

    private func absolute(_ value: String?) -> String? {
        guard let value, value.hasPrefix("/") else { return nil }
        return value
    }
}

/// The process environment as a dictionary, read from `environ` without Foundation.
public enum ProcessEnvironment {
    public static var current: [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            // Split on the first "=" byte, as getenv does; no Character (grapheme) walking.
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self), count: strlen(entry))
            if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(decoding: bytes[..<equals], as: UTF8.self)
                if result[name] == nil { result[name] = String(decoding: bytes[(equals + 1)...], as: UTF8.self) }
            }
            cursor += 1
        }
        return result
    }
}
