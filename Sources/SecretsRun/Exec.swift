import AgentboxCore
import CAgentboxSys

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Replaces this process with `argv` and exactly `environment`, with no shell in between.
public enum Exec {
    /// Only returns by throwing. The command is found on the new environment's PATH, as execvp
    /// would, when it has no slash. Buffers that held values are zeroed if execve fails.
    public static func replaceProcess(argv: [String], environment: [EnvironmentVariable]) throws(SecretsError) -> Never {
        var strings = argv.map { Array($0.utf8) }
        strings += environment.map { Array($0.name.utf8) + [UInt8(ascii: "=")] + $0.value }
        let block = CStringBlock(strings)
        for index in strings.indices { strings[index].withUnsafeMutableBytes { ab_secure_zero($0.baseAddress, $0.count) } }
        var cArgv = Array(block.pointers[..<argv.count]) + [nil]
        var cEnv = Array(block.pointers[argv.count...]) + [nil]
        let searchPath = environment.first(where: { $0.name == "PATH" }).map { String(decoding: $0.value, as: UTF8.self) }
        _ = ab_execve_search(argv[0], &cArgv, &cEnv, searchPath)
        let code = errno
        block.scrub()
        throw .exec(command: argv[0], code: code)
    }
}

/// NUL-terminated strings packed in one buffer we own, so values can be zeroed if exec fails.
final class CStringBlock {
    private let storage: UnsafeMutableRawBufferPointer
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [[UInt8]]) {
        storage = .allocate(byteCount: max(1, strings.reduce(0) { $0 + $1.count + 1 }), alignment: 1)
        var offset = 0
        var pointers: [UnsafeMutablePointer<CChar>?] = []
        for bytes in strings {
            let start = storage.baseAddress! + offset
            bytes.withUnsafeBytes { if let base = $0.baseAddress { start.copyMemory(from: base, byteCount: $0.count) } }
            start.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
            pointers.append(start.assumingMemoryBound(to: CChar.self))
            offset += bytes.count + 1
        }
        self.pointers = pointers
    }

    func scrub() {
        ab_secure_zero(storage.baseAddress, storage.count)
    }

    deinit {
        scrub()
        storage.deallocate()
    }
}
