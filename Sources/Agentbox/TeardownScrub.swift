import AgentboxCore
import Redaction

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Which files the agent wrote under its home are kept after the session (its own session logs),
/// as data: `sandbox/keep.txt`, one glob per line relative to the agent's home (`*`, `?`, `**`
/// as in policy paths), `#` comments. Everything else in the session directory is removed.
public struct KeepSet: Sendable, Equatable {
    public var patterns: [String]

    public init(patterns: [String]) { self.patterns = patterns }

    /// Parses keep.txt; an absolute pattern or one with a `..` segment is an error with its line.
    public static func parse(_ text: String, fileName: String = "keep.txt") throws(AgentboxError) -> KeepSet {
        var patterns: [String] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line =
                raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let pattern = line.trimmingCharacters(in: " \t\r")
            if pattern.isEmpty { continue }
            if pattern.hasPrefix("/") || pattern.split(separator: "/").contains("..") {
                throw .config(
                    "\(fileName):\(number + 1): a keep pattern is relative to the agent's home, without '..': \(pattern)"
                )
            }
            patterns.append(pattern)
        }
        return KeepSet(patterns: patterns)
    }

    /// Whether `relativePath` (from the agent's home, no leading `/`) is kept.
    public func keeps(_ relativePath: String) -> Bool {
        patterns.contains { GlobPattern.path($0).matches(relativePath) }
    }

    /// `--keep-file`, `$AGENTBOX_KEEP_FILE`, then the installed copies of `sandbox/keep.txt`.
    /// None found: nothing is kept (the safe default), and the caller says so.
    static func load(_ option: String?, environment: [String: String]) throws(AgentboxError) -> (KeepSet, String?) {
        var candidates: [String]
        if let option {
            candidates = [option]
        } else if let path = environment["AGENTBOX_KEEP_FILE"] {
            candidates = [path]
        } else {
            candidates = [
                AgentboxCommand.executableDirectory() + "/../share/agentbox/keep.txt",
                "/usr/local/share/agentbox/keep.txt", "/usr/share/agentbox/keep.txt",
            ]
        }
        for path in candidates {
            guard let bytes = try? FileBytes.read(path) else { continue }
            return (try parse(String(decoding: bytes, as: UTF8.self), fileName: path), path)
        }
        if option != nil || environment["AGENTBOX_KEEP_FILE"] != nil {
            throw .config("cannot read the keep file \(candidates[0])")
        }
        return (KeepSet(patterns: []), nil)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let skip = Set(set.unicodeScalars)
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !skip.contains($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !skip.contains($0) })!
        return String(scalars[first...last])
    }
}

/// The teardown scrub: kept files copied out of the session directory through the redactor,
/// then every kept file (transcript included) scanned once more.
enum TeardownScrub {
    /// Largest kept file; a bigger one is not kept (and reported).
    static let fileLimit = 64 << 20

    /// Copies every regular file under `home` that `keep` selects through `redactor` into
    /// `destination` (created 0700, files 0600), never following a symbolic link. Returns the
    /// paths written and messages about files skipped.
    static func keepFiles(home: String, keep: KeepSet, into destination: String, redactor: Redactor)
        -> (kept: [String], problems: [String])
    {
        guard !keep.patterns.isEmpty else { return ([], []) }
        var kept: [String] = []
        var problems: [String] = []
        let homeFD = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard homeFD >= 0 else { return ([], ["cannot open \(home): \(SystemError("open"))"]) }
        walk(homeFD, prefix: "") { directory, name, relative in
            guard keep.keeps(relative) else { return }
            let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else {
                problems.append("\(relative): \(SystemError("open"))")
                return
            }
            defer { close(fd) }
            guard let bytes = readAll(fd, limit: fileLimit) else {
                problems.append("\(relative): not kept (unreadable or larger than \(fileLimit >> 20) MiB)")
                return
            }
            let target = destination + "/" + relative
            do {
                try FileSafety.makePrivateDirectory(FileSafety.parent(of: target))
                try writeFile(target, redactor.redact(bytes))
                kept.append(target)
            } catch {
                problems.append("\(relative): \(error)")
            }
        }
        close(homeFD)
        return (kept, problems)
    }

    /// Scans each file once more: anything the redactor still changes is a finding. The file is
    /// rewritten redacted, and the count of findings (at least one per changed file) returned.
    static func verify(_ paths: [String], redactor: Redactor) -> (findings: Int, files: [String]) {
        var findings = 0
        var files: [String] = []
        let marker = Array("[REDACTED".utf8)
        for path in paths {
            guard let bytes = try? FileBytes.read(path, limit: fileLimit * 4) else { continue }
            let again = redactor.redact(bytes)
            guard again != bytes else { continue }
            findings += max(1, count(marker, in: again) - count(marker, in: bytes))
            files.append(path)
            try? writeFile(path, again)
        }
        return (findings, files)
    }

    static func count(_ needle: [UInt8], in haystack: [UInt8]) -> Int {
        guard !needle.isEmpty, haystack.count >= needle.count else { return 0 }
        var total = 0
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0] && haystack[index..<index + needle.count].elementsEqual(needle) {
                total += 1
                index += needle.count
            } else {
                index += 1
            }
        }
        return total
    }

    /// Moves `source` to `target` (rename, or copy and unlink across filesystems), mode 0600.
    static func move(_ source: String, to target: String) throws(SystemError) {
        try FileSafety.makePrivateDirectory(FileSafety.parent(of: target))
        if rename(source, target) == 0 {
            try valueOrErrno("chmod \(target)") { chmod(target, 0o600) }
            return
        }
        guard errno == EXDEV else { throw SystemError("rename \(source) \(target)") }
        let bytes = try FileBytes.read(source, limit: Int.max)
        try writeFile(target, bytes)
        unlink(source)
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(SystemError) {
        let fd = try valueOrErrno("open \(path)") {
            open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        defer { close(fd) }
        try valueOrErrno("fchmod \(path)") { fchmod(fd, 0o600) }
        var offset = 0
        while offset < bytes.count {
            let written = try valueOrErrno("write \(path)") {
                bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            }
            offset += written
        }
    }

    private static func readAll(_ fd: Int32, limit: Int) -> [UInt8]? {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= limit else { return nil }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return result }
            if count < 0 { if errno == EINTR { continue } else { return nil } }
            result += chunk[0..<count]
            if result.count > limit { return nil }
        }
    }

    /// Calls `visit(directoryFD, name, relativePath)` for every non-directory entry below `fd`,
    /// descending into real directories only (O_NOFOLLOW).
    private static func walk(
        _ fd: Int32, prefix: String, depth: Int = 0,
        _ visit: (Int32, String, String) -> Void
    ) {
        guard depth < 64, let copy = Optional(dup(fd)), copy >= 0, let dir = fdopendir(copy) else { return }
        defer { closedir(dir) }
        var entries: [(String, Bool)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let kind = info.st_mode & S_IFMT
            if kind == S_IFDIR {
                entries.append((name, true))
            } else if kind == S_IFREG {
                entries.append((name, false))
            }
        }
        for (name, isDirectory) in entries.sorted(by: { $0.0 < $1.0 }) {
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            if isDirectory {
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else { continue }
                walk(child, prefix: relative, depth: depth + 1, visit)
                close(child)
            } else {
                visit(fd, name, relative)
            }
        }
    }
}
