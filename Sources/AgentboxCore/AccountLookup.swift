#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// A user account of this system: the fields agentbox needs from its passwd entry.
public struct Account: Sendable, Equatable {
    public let name: String
    public let uid: UInt32
    public let gid: UInt32
    public let home: String

    public init(name: String, uid: UInt32, gid: UInt32, home: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
    }
}

/// Looks accounts up without glibc's NSS on Linux: `/etc/passwd` as the `files` module reads it,
/// then `getent passwd` for everything else (LDAP, SSSD, systemd-homed, whatever nsswitch.conf
/// names). The remote commands are linked static-pie, and there `getpwnam` would load an NSS
/// module built against the shared libc (Debian's `passwd: files systemd` loads libnss_systemd
/// for any name `/etc/passwd` lacks), which crashes the process. getent is a dynamically linked
/// program of the C library's own; it runs only for accounts `/etc/passwd` does not know.
/// macOS asks Directory Services through getpwnam.
public enum AccountLookup {
    public static func account(uid: UInt32) -> Account? {
        #if os(Linux)
        return filesEntry { $0.uid == uid } ?? getentEntry(String(uid)) { $0.uid == uid }
        #else
        return getpwuid(uid).flatMap(account(from:))
        #endif
    }

    /// The account named exactly `name`; nil for anything that is not an account name (see
    /// `isAccountName`).
    public static func account(name: String) -> Account? {
        guard isAccountName(name) else { return nil }
        #if os(Linux)
        // getent takes a number for a uid: a name made of digits is only looked up in files. And
        // whatever getent answers must carry the name asked for.
        let numeric = name.allSatisfy { ("0"..."9").contains($0) }
        return filesEntry { $0.name == name } ?? (numeric ? nil : getentEntry(name) { $0.name == name })
        #else
        return getpwnam(name).flatMap(account(from:))
        #endif
    }

    /// Letters, digits, `.`, `_`, `-` and `@` (SSSD's fully qualified names), not starting with
    /// `-` or `.`, optionally ending in `$` (machine accounts), at most 256 bytes. Nothing getent
    /// would read as a number with a sign or spaces (`+1000` and ` 1000` are uid 1000 to it) or
    /// as an option.
    public static func isAccountName(_ name: String) -> Bool {
        let body = name.hasSuffix("$") ? name.dropLast() : Substring(name)
        guard let first = body.unicodeScalars.first, first != "-", first != ".", name.utf8.count <= 256 else {
            return false
        }
        return body.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-@".unicodeScalars.contains($0)
        }
    }

    /// The entries of a passwd file's text, in order; malformed lines and NIS `+`/`-` lines skipped.
    public static func parse(_ text: String) -> [Account] {
        text.split(separator: "\n").compactMap { line in
            guard let first = line.first, first != "+", first != "-", first != "#" else { return nil }
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 7, !fields[0].isEmpty, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else {
                return nil
            }
            return Account(name: String(fields[0]), uid: uid, gid: gid, home: String(fields[5]))
        }
    }

    static let passwdPath = "/etc/passwd"
    static let getentPaths = ["/usr/bin/getent", "/bin/getent"]

    private static func filesEntry(_ matches: (Account) -> Bool) -> Account? {
        guard let bytes = try? FileBytes.read(passwdPath, limit: 16 << 20) else { return nil }
        return parse(String(decoding: bytes, as: UTF8.self)).first(where: matches)
    }

    private static func getentEntry(_ key: String, _ matches: (Account) -> Bool) -> Account? {
        guard let getent = getentPaths.first(where: { access($0, X_OK) == 0 }),
            let output = try? ChildProcess.run(
                executable: getent, arguments: ["passwd", key], environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"],
                timeout: .seconds(10)),
            output.status == .exited(0)
        else { return nil }
        return parse(output.standardOutputText).first(where: matches)
    }

    #if !os(Linux)
    private static func account(from entry: UnsafeMutablePointer<passwd>) -> Account? {
        guard let name = entry.pointee.pw_name else { return nil }
        return Account(
            name: String(cString: name), uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid,
            home: entry.pointee.pw_dir.map { String(cString: $0) } ?? "/")
    }
    #endif
}
