import Foundation
import Redaction
import Testing

/// The forms list itself, checked against Foundation's encoders.
struct SecretFormsTests {
    @Test(arguments: ["hunter2-secret", "p@ss/wörd+=?", "ab\ncd-ef:gh"])
    func base64AtEveryAlignmentIsCovered(_ secret: String) {
        let forms = SecretForms.forms(of: Array(secret.utf8)).map { String(decoding: $0, as: UTF8.self) }
        for prefix in ["", "a", "ab", "abc", "user:", "alex:"] {
            for suffix in ["", "\n", "x", "yz"] {
                let encoded = Data((prefix + secret + suffix).utf8).base64EncodedString()
                // Some form must be a substring that covers every character carrying only secret bits.
                let first = ((prefix.utf8.count * 8) + 5) / 6
                let last = ((prefix.utf8.count + secret.utf8.count) * 8) / 6
                let stable = String(Array(encoded)[first..<last])
                #expect(forms.contains { $0.contains(stable) && encoded.contains($0) }, "\(prefix)|\(suffix)")
            }
        }
    }

    @Test func basicAuthAndEchoPipeBase64AreForms() {
        let secret = "correct-horse-battery"
        let forms = SecretForms.forms(of: Array(secret.utf8)).map { String(decoding: $0, as: UTF8.self) }
        #expect(forms.contains(Data((secret + "\n").utf8).base64EncodedString()))
        let basic = Data(("user:" + secret).utf8).base64EncodedString()
        #expect(forms.contains { basic.hasSuffix($0) && $0.count >= basic.count - 7 })
    }

    @Test func percentAndShellAndJSONForms() {
        let secret = "it's a/b&c\"d\\e"
        let forms = Set(SecretForms.forms(of: Array(secret.utf8)).map { String(decoding: $0, as: UTF8.self) })
        #expect(forms.contains("it%27s%20a%2Fb%26c%22d%5Ce"))
        #expect(forms.contains("it%27s%20a%2fb%26c%22d%5ce"))
        #expect(forms.contains("it's%20a%2Fb%26c%22d%5Ce"))  // encodeURIComponent
        #expect(forms.contains(#"it'\''s a/b&c"d\e"#))
        #expect(forms.contains(#"it's a/b&c\"d\\e"#))
        #expect(forms.contains(#"it's a\/b&c\"d\\e"#))
        #expect(forms.contains(#"it's a/b\u0026c\"d\\e"#))
    }
}
