import Foundation
import Redaction
import Testing

/// `agentbox-redact` over files: secrets from a list file and a whole-value file.
struct RedactCommandTests {
    func temporaryFile(_ contents: String) throws -> String {
        let path = NSTemporaryDirectory() + "redact-\(UUID().uuidString)"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func run(_ arguments: [String], stdin: String = "") throws -> (status: Int32, output: String, errors: String) {
        let input = try temporaryFile(stdin)
        let output = try temporaryFile("")
        let errors = try temporaryFile("")
        defer { for path in [input, output, errors] { try? FileManager.default.removeItem(atPath: path) } }
        let inFD = open(input, O_RDONLY)
        let outFD = open(output, O_WRONLY | O_TRUNC)
        let errFD = open(errors, O_WRONLY | O_TRUNC)
        defer {
            close(inFD)
            close(outFD)
            close(errFD)
        }
        let status = RedactCommand.run(arguments, input: inFD, output: outFD, errors: errFD)
        return (
            status.rawValue, try String(contentsOfFile: output, encoding: .utf8),
            try String(contentsOfFile: errors, encoding: .utf8)
        )
    }

    @Test func redactsOldLogsWithSecretsFromFiles() throws {
        let list = try temporaryFile("first-secret-value\r\nsecond-secret-value\n\nabc\n")
        let pem = Fixture.pemKey(lines: 3)
        let whole = try temporaryFile(pem + "\n")
        let log = try temporaryFile(
            "a first-secret-value b\n" + pem + "\nc " + Data("second-secret-value".utf8).base64EncodedString() + "\n")
        defer { for path in [list, whole, log] { try? FileManager.default.removeItem(atPath: path) } }
        let result = try run(["--secret-file", list, "--secret-value-file", whole, log])
        #expect(result.status == 0)
        let name = String(whole.split(separator: "/").last!)
        #expect(result.output == "a [REDACTED] b\n[REDACTED:\(name)]\nc [REDACTED]\n")
        #expect(result.errors.contains("shorter than the minimum"))
    }

    @Test func readsStandardInputWithoutOperands() throws {
        let result = try run([], stdin: "token ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5\n")
        #expect(result.status == 0)
        #expect(result.output == "token [REDACTED:github-token]\n")
    }

    @Test(arguments: ["--help", "-h"])
    func helpPrintsTheUsageWithEveryOption(_ flag: String) throws {
        let result = try run([flag])
        #expect(result.status == 0)
        for option in ["--secret-file", "--secret-value-file", "--no-token-formats", "--min-length"] {
            #expect(result.output.contains(option), "\(result.output)")
        }
    }

    @Test func unknownOptionIsAUsageError() throws {
        let result = try run(["--secrets", "x"])
        #expect(result.status == 64)
        #expect(result.errors.contains("unknown option --secrets"))
    }
}
