#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Randomness from the kernel and hex encoding. (Digests live with the broker, the only user
/// of OpenSSL: the remote commands stay free of libcrypto and its start-up cost.)
public enum Crypto {
    /// `count` bytes from the kernel's CSPRNG (`getentropy`, 256 bytes a call, getrandom(2)
    /// underneath; `arc4random_buf` on macOS), which is what seeds OpenSSL's generator too.
    /// Taking them straight from the kernel spares a short-lived process OpenSSL's
    /// initialisation (its config file and provider tables: about 2 ms of CPU per
    /// `agentbox start`). Traps if the kernel refuses: continuing without randomness would mint
    /// guessable nonces.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in
            #if canImport(Glibc)
            var offset = 0
            while offset < buffer.count {
                let chunk = min(256, buffer.count - offset)
                let status = getentropy(buffer.baseAddress! + offset, chunk)
                precondition(status == 0, "getentropy failed: the system random generator is unavailable")
                offset += chunk
            }
            #else
            if let base = buffer.baseAddress { arc4random_buf(base, buffer.count) }  // Darwin: cannot fail
            #endif
        }
        return bytes
    }

    /// A random token of `byteCount` bytes as lowercase hex.
    public static func randomToken(byteCount: Int = 32) -> String {
        hex(randomBytes(byteCount))
    }

    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
