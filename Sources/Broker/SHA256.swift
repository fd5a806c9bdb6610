import AgentboxCore
import CCrypto

/// SHA-256 through OpenSSL's libcrypto (EVP_Digest), for nonce hashes and approval fingerprints.
enum SHA256 {
    static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let input = Array(bytes)
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        input.withUnsafeBytes { source in
            digest.withUnsafeMutableBytes { out in
                _ = EVP_Digest(source.baseAddress, source.count, out.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        return Crypto.hex(digest)
    }
}
