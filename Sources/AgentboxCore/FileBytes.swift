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
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try valueOrErrno("read \(path)") { buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) } }
            if count == 0 { break }
            result.append(contentsOf: buffer[0..<count])
            if result.count > limit { throw SystemError("\(path) is larger than \(limit) bytes", code: EFBIG) }
        }
        return result
    }
}

private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
