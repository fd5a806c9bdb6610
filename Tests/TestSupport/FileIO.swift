import AgentboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Small file helpers for tests, on plain syscalls.
public enum FileIO {
    /// The whole file, or nil when it cannot be opened.
    public static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let length = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, $0.count) }
            if length > 0 {
                result.append(contentsOf: chunk[0..<length])
            } else if length == 0 || errno != EINTR {
                return length == 0 ? result : nil
            }
        }
    }

    /// The whole file decoded as UTF-8, or "" when it cannot be read.
    public static func readText(_ path: String) -> String {
        read(path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Creates or truncates `path` with `mode` (set explicitly, whatever the umask) and writes `bytes`.
    public static func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(SystemError) {
        let fd = try valueOrErrno("open \(path)") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
        defer { close(fd) }
        try valueOrErrno("fchmod \(path)") { fchmod(fd, mode) }
        var offset = 0
        while offset < bytes.count {
            let written = try valueOrErrno("write \(path)") {
                bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + offset, $0.count - offset) }
            }
            offset += written
        }
    }

    public static func write(_ path: String, _ text: String, mode: mode_t = 0o600) throws(SystemError) {
        try write(path, Array(text.utf8), mode: mode)
    }

    /// Removes `path` and everything under it, without following symbolic links.
    public static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in directoryEntries(path) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// Names in `path`, without `.` and `..`.
    public static func directoryEntries(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
