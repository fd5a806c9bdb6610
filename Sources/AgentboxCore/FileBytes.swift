import CAgentboxSys

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Reading small files whole, without Foundation.
public enum FileBytes {
    /// The contents of `path`, refusing anything that is not a regular file or is over `limit` bytes.
    public static func read(_ path: String, limit: Int = 1 << 20) throws(SystemError) -> [UInt8] {
        let fd = try valueOrErrno("open \(path)") { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        defer { close(fd) }
        var info = stat()
        try valueOrErrno("fstat \(path)") { fstat(fd, &info) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw SystemError("\(path) is not a regular file", code: EINVAL) }
        guard Int(info.st_size) <= limit else { throw SystemError("\(path) is larger than \(limit) bytes", code: EFBIG) }
        // Sized from fstat (one byte more, to see the end in the same read); files of /proc say
        // 0. The buffer is not zeroed first (64 KiB zeroed cost every read 16 page faults), but
        // what was read into it is wiped after: some of these files hold secrets.
        let expected = Int(info.st_size)
        let bufferSize = expected > 0 ? min(expected + 1, 65536) : 4096
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 16)
        var used = 0
        defer {
            ab_secure_zero(buffer, used)
            buffer.deallocate()
        }
        var result: [UInt8] = []
        result.reserveCapacity(expected)
        while true {
            let count = try valueOrErrno("read \(path)") { systemRead(fd, buffer, bufferSize) }
            if count == 0 { break }
            used = max(used, count)
            result.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: count))
            if result.count > limit { throw SystemError("\(path) is larger than \(limit) bytes", code: EFBIG) }
        }
        return result
    }
}

private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
