import AgentboxCore
import YAMLDocument

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// Reads and validates a policy file. All-or-nothing: either a complete `Policy` or every
/// problem found, sorted by position, so the developer fixes the file in one go.
public enum PolicyLoader {
    /// Policies larger than this are refused (1 MiB).
    public static let maximumFileSize = 1 << 20

    /// Loads the policy at `path` after checking that neither the file nor any directory above
    /// it is writable by group or others (`FileSafety.requireNotWritableByOthers`), that it is
    /// a regular file of sane size, and that it is valid UTF-8.
    public static func load(path: String) throws(PolicyError) -> Policy {
        do {
            try FileSafety.requireNotWritableByOthers(path)
        } catch {
            throw .unsafeFile(error)
        }
        let bytes = try readFile(path)
        return try parse(bytes: bytes, path: path)
    }

    /// Validates policy text; `path` names the file in messages. Does no file-safety checks:
    /// only `load(path:)` gives a policy authority.
    public static func parse(bytes: [UInt8], path: String) throws(PolicyError) -> Policy {
        if bytes.count > maximumFileSize {
            throw .invalid([
                PolicyDiagnostic(
                    .error, fileName: path, mark: SourceMark(line: 1, column: 1),
                    message: "the policy file is larger than \(maximumFileSize) bytes")
            ])
        }
        if let offset = firstInvalidUTF8Offset(bytes) {
            throw .invalid([
                PolicyDiagnostic(
                    .error, fileName: path, mark: mark(ofOffset: offset, in: bytes),
                    message: "the policy file is not valid UTF-8 (byte 0x\(String(bytes[offset], radix: 16)) at offset "
                        + "\(offset)); save it as UTF-8")
            ])
        }
        let root: YAMLNode
        do {
            root = try YAMLDocument.parse(bytes: bytes, fileName: path)
        } catch {
            throw .invalid([PolicyDiagnostic(.error, fileName: path, mark: error.mark, message: error.message)])
        }
        var reader = PolicyReader(fileName: path)
        let policy = reader.read(root)
        let errors = reader.sorted(reader.diagnostics.filter { $0.severity == .error })
        guard errors.isEmpty, let policy else { throw .invalid(errors) }
        return policy
    }

    private static func readFile(_ path: String) throws(PolicyError) -> [UInt8] {
        let fd: Int32
        do {
            // O_NONBLOCK: opening a FIFO planted in place of the policy must not hang the broker.
            fd = try valueOrErrno("open \(path)") { open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK) }
        } catch {
            throw .unreadable(error)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(SystemError("fstat \(path)")) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .unsafeFile(.notRegularFile(path: path))
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count: Int
            do {
                count = try valueOrErrno("read \(path)") {
                    chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                }
            } catch {
                throw .unreadable(error)
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > maximumFileSize { break }
        }
        return bytes
    }

    /// The offset of the first byte that does not start a valid UTF-8 sequence, or nil.
    static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput: return nil
            case .error: return min(offset, bytes.count - 1)
            }
        }
    }

    static func mark(ofOffset offset: Int, in bytes: [UInt8]) -> SourceMark {
        var line = 1
        var column = 1
        for byte in bytes[0..<offset] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourceMark(line: line, column: column)
    }
}
