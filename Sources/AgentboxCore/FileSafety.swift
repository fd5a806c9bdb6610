#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Why a file or directory that holds authority (a policy, a vault file) is refused.
public enum UnsafeFileError: Error, Equatable, CustomStringConvertible {
    case missing(path: String)
    case notRegularFile(path: String)
    case writableByOthers(path: String, mode: UInt32)
    case readableByOthers(path: String, mode: UInt32)
    case ownedBySomeoneElse(path: String, owner: UInt32)

    public var description: String {
        switch self {
        case .missing(let path): return "\(path) does not exist"
        case .notRegularFile(let path): return "\(path) is not a regular file"
        case .writableByOthers(let path, let mode):
            return "\(path) is writable by group or others (mode \(octal(mode))); run: chmod go-w \(path)"
        case .readableByOthers(let path, let mode):
            return "\(path) is readable by group or others (mode \(octal(mode))); run: chmod 600 \(path)"
        case .ownedBySomeoneElse(let path, let owner):
            return "\(path) is owned by uid \(owner), not by you (uid \(getuid()))"
        }
    }
}

private func octal(_ mode: UInt32) -> String {
    "0" + String(mode & 0o7777, radix: 8)
}

/// Checks on files that carry authority, done with `lstat`/`stat` before they are trusted.
public enum FileSafety {
    /// The file and every directory above it up to `/` must not be writable by group or others
    /// (the sticky `/tmp` excepted, as long as the file's own directory is safe).
    public static func requireNotWritableByOthers(_ path: String) throws(UnsafeFileError) {
        // A relative path is checked from the working directory up: its parents end in ".".
        let path = absolute(path)
        var info = stat()
        guard stat(path, &info) == 0 else { throw .missing(path: path) }
        let mode = UInt32(info.st_mode)
        if mode & 0o022 != 0 { throw .writableByOthers(path: path, mode: mode) }
        if info.st_uid != getuid() && info.st_uid != 0 { throw .ownedBySomeoneElse(path: path, owner: info.st_uid) }
        var directory = parent(of: path)
        while true {
            guard stat(directory, &info) == 0 else { throw .missing(path: directory) }
            let dirMode = UInt32(info.st_mode)
            let sticky = dirMode & UInt32(S_ISVTX) != 0
            if dirMode & 0o022 != 0 && !sticky { throw .writableByOthers(path: directory, mode: dirMode) }
            if directory == "/" { break }
            directory = parent(of: directory)
        }
    }

    /// A regular file readable and writable only by its owner (group/other bits all clear).
    public static func requirePrivateFile(_ path: String) throws(UnsafeFileError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .missing(path: path) }
        let mode = UInt32(info.st_mode)
        guard mode & UInt32(S_IFMT) == UInt32(S_IFREG) else { throw .notRegularFile(path: path) }
        if mode & 0o077 != 0 {
            if mode & 0o022 != 0 { throw .writableByOthers(path: path, mode: mode) }
            throw .readableByOthers(path: path, mode: mode)
        }
        if info.st_uid != getuid() { throw .ownedBySomeoneElse(path: path, owner: info.st_uid) }
    }

    /// Creates `path` (and missing parents) as directories with mode 0700, and checks that the
    /// last one is ours and private.
    public static func makePrivateDirectory(_ path: String) throws(SystemError) {
        // Usually it exists already: one mkdir, and the walk over the parents only when one is missing.
        if mkdir(path, 0o700) != 0 && errno == ENOENT {
            var prefix = ""
            for component in path.split(separator: "/") {
                prefix += "/"
                prefix += String(component)
                if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw SystemError("mkdir \(prefix)") }
            }
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw SystemError("lstat \(path)") }
        guard info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid() else {
            throw SystemError("\(path) is not a directory owned by uid \(getuid())", code: EPERM)
        }
        if info.st_mode & 0o077 != 0 {
            try valueOrErrno("chmod 0700 \(path)") { chmod(path, 0o700) }
        }
    }

    /// `path` from `/`: a relative one joined to the working directory.
    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let directory = getcwd(nil, 0) else { return "/" + path }
        defer { free(directory) }
        let base = String(cString: directory)
        return (base == "/" ? "" : base) + "/" + path
    }

    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }
}
