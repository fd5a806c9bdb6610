import AgentboxCore
import CAgentboxSys

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// `file:///ABSOLUTE/PATH#KEY`: a secret kept in a private file on the laptop (demos, tests,
/// tokens a tool already wrote to disk).
///
/// The file must be a regular file owned by the broker's user with no group or other
/// permission bits (mode 0600 or 0400); anything else is refused before it is read, and checked
/// again on the open descriptor. Without `#KEY` the whole file, byte for byte, is the value.
/// With `#KEY` the file is read as `KEY=VALUE` lines (see `EnvFileFormat`).
public struct FileVault: VaultBackend {
    public init() {}

    public func read(_ reference: SecretReference) throws(VaultError) -> SecretBytes {
        let path = reference.path
        guard path.hasPrefix("/") else {
            throw .invalidReference(
                reference: reference.raw, reason: "file:// needs an absolute path, as in file:///home/you/secrets.env")
        }
        if let key = reference.fragment, !EnvFileFormat.isValidKey(key) {
            throw .invalidReference(
                reference: reference.raw, reason: "the key after # must match [A-Za-z_][A-Za-z0-9_.-]*")
        }
        do {
            try FileSafety.requirePrivateFile(path)
        } catch {
            if case .missing = error { throw .notFound(reference: reference.raw, what: "file \(path)") }
            throw .unsafeFile(reference: reference.raw, error)
        }
        let contents = try readPrivateFile(path, reference: reference.raw)
        defer { contents.release() }
        guard let key = reference.fragment else { return SecretBytes(contents.bytes) }
        let found: SecretBytes?
        do {
            found = try EnvFileFormat.value(for: key, in: contents.bytes)
        } catch {
            throw .malformedFile(reference: reference.raw, path: path, line: error.line, reason: error.reason)
        }
        guard let found else { throw .notFound(reference: reference.raw, what: "key \(key) in \(path)") }
        return found
    }

    /// Opens and reads `path`, re-checking type, owner and mode on the descriptor so a file
    /// swapped in after `requirePrivateFile` is still refused.
    private func readPrivateFile(_ path: String, reference: String) throws(VaultError) -> OwnedBytes {
        let fd: Int32
        do {
            fd = try valueOrErrno("open \(path)") { open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) }
        } catch {
            throw .system(reference: reference, error)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(reference: reference, SystemError("fstat \(path)")) }
        let mode = UInt32(info.st_mode)
        if mode & UInt32(S_IFMT) != UInt32(S_IFREG) {
            throw .unsafeFile(reference: reference, .notRegularFile(path: path))
        }
        if mode & 0o022 != 0 { throw .unsafeFile(reference: reference, .writableByOthers(path: path, mode: mode)) }
        if mode & 0o044 != 0 { throw .unsafeFile(reference: reference, .readableByOthers(path: path, mode: mode)) }
        if info.st_uid != getuid() {
            throw .unsafeFile(reference: reference, .ownedBySomeoneElse(path: path, owner: info.st_uid))
        }
        let contents = OwnedBytes(capacity: Int(info.st_size) + 1)
        while true {
            let length = contents.read(from: fd)
            if length > 0 { continue }
            if length == 0 { return contents }
            if errno == EINTR { continue }
            let error = SystemError("read \(path)")
            contents.release()
            throw .system(reference: reference, error)
        }
    }
}

/// A byte buffer this module owns; `release()` zeroes and frees it, growing zeroes the old one.
final class OwnedBytes {
    private var storage: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(capacity: Int) {
        storage = .allocate(byteCount: max(capacity, 64), alignment: 1)
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<count]) }

    func read(from fd: Int32) -> Int {
        if count == storage.count {
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: storage.count * 2, alignment: 1)
            larger.copyMemory(from: UnsafeRawBufferPointer(storage))
            ab_secure_zero(storage.baseAddress, storage.count)
            storage.deallocate()
            storage = larger
        }
        let length = systemRead(fd, storage.baseAddress! + count, storage.count - count)
        if length > 0 { count += length }
        return length
    }

    func release() {
        ab_secure_zero(storage.baseAddress, storage.count)
        count = 0
    }

    deinit {
        ab_secure_zero(storage.baseAddress, storage.count)
        storage.deallocate()
    }
}

private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
