#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Leak checks over the live system: every process's argv, and every file under a directory.
public enum ProcessScan {
    /// Every readable process's `/proc/PID/cmdline` (arguments separated by NUL).
    public static func commandLines() -> [(pid: pid_t, commandLine: [UInt8])] {
        processIDs().compactMap { pid in FileIO.read("/proc/\(pid)/cmdline").map { (pid, $0) } }
    }

    /// Processes whose argv contains `needle` anywhere (including across argument boundaries).
    public static func processesWhoseArgumentsContain(_ needle: [UInt8]) -> [pid_t] {
        guard !needle.isEmpty else { return [] }
        return commandLines().filter { $0.commandLine.firstRange(of: needle) != nil }.map(\.pid)
    }

    /// Regular files under `directory` (recursively, not following symbolic links) whose
    /// content contains `needle`.
    public static func filesContaining(_ needle: [UInt8], under directory: String) -> [String] {
        guard !needle.isEmpty else { return [] }
        var hits: [String] = []
        var pending = [directory]
        while let path = pending.popLast() {
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                pending.append(contentsOf: FileIO.directoryEntries(path).map { path + "/" + $0 })
            case S_IFREG:
                if let bytes = FileIO.read(path), bytes.firstRange(of: needle) != nil { hits.append(path) }
            default:
                break
            }
        }
        return hits.sorted()
    }

    /// Processes whose real uid is `uid`.
    public static func processes(ownedBy uid: uid_t) -> [pid_t] {
        processIDs().filter { pid in
            var info = stat()
            return stat("/proc/\(pid)", &info) == 0 && info.st_uid == uid
        }
    }

    /// Every process whose chain of parents reaches `ancestor` (not `ancestor` itself).
    public static func descendants(of ancestor: pid_t) -> [pid_t] {
        var parents: [pid_t: pid_t] = [:]
        for pid in processIDs() {
            if let parent = parentID(of: pid) { parents[pid] = parent }
        }
        return parents.keys.filter { pid in
            var current = pid
            var steps = 0
            while let parent = parents[current], parent > 1, steps < 1000 {
                if parent == ancestor { return true }
                current = parent
                steps += 1
            }
            return false
        }
    }

    /// The numeric entries of `/proc`.
    public static func processIDs() -> [pid_t] {
        FileIO.directoryEntries("/proc").compactMap { pid_t($0) }
    }

    /// The parent pid from `/proc/PID/stat` (the field after the parenthesised command name).
    public static func parentID(of pid: pid_t) -> pid_t? {
        guard let stat = FileIO.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")) else {
            return nil
        }
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 1 else { return nil }
        return pid_t(String(decoding: fields[1], as: UTF8.self))
    }
}
