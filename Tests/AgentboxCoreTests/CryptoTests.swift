import Testing
@testable import AgentboxCore

@Suite struct CryptoTests {
    @Test func constantTimeCompareHandlesEveryBytePosition() {
        let base = (0..<64).map { UInt8($0) }
        for position in base.indices {
            var changed = base
            changed[position] ^= 0x80
            #expect(!SecretBytes(base).constantTimeEquals(SecretBytes(changed)))
        }
        #expect(SecretBytes(base).constantTimeEquals(SecretBytes(base)))
        #expect(SecretBytes([UInt8]()).constantTimeEquals(SecretBytes([UInt8]())))
    }

    @Test func randomTokensDiffer() {
        #expect(Crypto.randomToken() != Crypto.randomToken())
        #expect(Crypto.randomToken(byteCount: 16).count == 32)
    }

    @Test func constantTimeCompareChecksEveryByteAndLength() {
        let a = SecretBytes(Array("correct horse".utf8))
        #expect(a.constantTimeEquals(SecretBytes(Array("correct horse".utf8))))
        #expect(!a.constantTimeEquals(SecretBytes(Array("correct horsf".utf8))))
        #expect(!a.constantTimeEquals(SecretBytes(Array("correct hors".utf8))))
        #expect(constantTimeEqual("nonce", "nonce"))
        #expect(!constantTimeEqual("nonce", "nonc3"))
    }

    @Test func secretBytesNeverPrintTheirValue() {
        let secret = SecretBytes(Array("hunter2-value".utf8))
        #expect(!"\(secret)".contains("hunter2"))
        #expect("\(secret)" == "<secret: 13 bytes>")
    }
}
