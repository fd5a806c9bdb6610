import Testing
@testable import AgentboxCore

@Suite struct CryptoTests {
    @Test func sha256OfEmptyInputIsTheKnownDigest() {
        #expect(Crypto.sha256Hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
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
