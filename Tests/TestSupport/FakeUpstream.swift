import AgentboxCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// A local model-API stand-in (`Tests/Fixtures/fake-upstream.py`) on 127.0.0.1: OpenAI chat
/// completions and Responses, Anthropic messages (all streaming SSE), `/echo`, `/timed`,
/// `/ndjson`, `/big`, `/small`. It answers 401 unless the request carries `expectedKey`, and logs
/// every request it received (headers included) so that tests can check what reached it. The key
/// reaches the server in a 0600 file, never in its argv: the leak checks scan every process's argv.
public final class FakeUpstream: @unchecked Sendable {
    public let port: Int
    public let logPath: String
    public let expectedKey: String
    private let child: RunningChild
    public let directory: TemporaryDirectory

    /// The fixtures directory in the source tree.
    public static var fixturesDirectory: String {
        var path = #filePath
        for _ in 0..<2 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Fixtures"
    }

    /// Starts the server; with `tls` (a certificate and key file), it speaks HTTPS.
    public init(expectedKey: String, tls: (certificate: String, key: String)? = nil) throws {
        directory = try TemporaryDirectory(prefix: "abup")
        self.expectedKey = expectedKey
        logPath = directory.file("requests.log")
        let portFile = directory.file("port")
        let keyFile = try directory.write("expected-key", Array(expectedKey.utf8))
        var arguments = [Self.fixturesDirectory + "/fake-upstream.py", portFile, logPath, "@" + keyFile]
        if let tls { arguments += ["--tls", tls.certificate, tls.key] }
        child = try ChildProcess.launch(
            executable: "/usr/bin/env", arguments: ["python3"] + arguments,
            environment: ["PATH": ProcessEnvironment.current["PATH"] ?? "/usr/bin:/bin"], logPath: directory.file("server.log"))
        var found: Int?
        for _ in 0..<300 {
            if let text = FileIO.read(portFile).map({ String(decoding: $0, as: UTF8.self) }), let value = Int(text) {
                found = value
                break
            }
            usleep(20_000)
        }
        guard let found else {
            _ = child.terminate(grace: .seconds(1))
            throw FixtureError("the fake upstream did not start: \(FileIO.readText(directory.file("server.log")))")
        }
        port = found
    }

    /// How many bytes of the last `/big` answer the server has sent so far (whole MiB).
    public var bigBytesSent: Int {
        Int(FileIO.readText(logPath + ".big-progress").filter(\.isNumber)) ?? 0
    }

    deinit {
        _ = child.terminate(grace: .seconds(1))
        directory.remove()
    }

    /// Every request logged so far, as raw JSON lines.
    public var requestLog: String { FileIO.readText(logPath) }
}

/// A throwaway CA and a server certificate for 127.0.0.1 / localhost, made with `openssl`.
public struct ThrowawayCA {
    public let caCertificate: String
    public let certificate: String
    public let key: String

    public init(in directory: TemporaryDirectory) throws {
        caCertificate = directory.file("ca.pem")
        certificate = directory.file("server.pem")
        key = directory.file("server.key")
        let caKey = directory.file("ca.key")
        let extensions = try directory.write("ext.cnf", Array("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n".utf8))
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-out", caCertificate, "-days", "1",
             "-subj", "/CN=agentbox test CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", directory.file("server.csr"),
             "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", directory.file("server.csr"), "-CA", caCertificate, "-CAkey", caKey, "-CAcreateserial",
             "-out", certificate, "-days", "1", "-extfile", extensions],
        ]
        for step in steps {
            let output = try ChildProcess.run(executable: "/usr/bin/openssl", arguments: step, environment: [:],
                                              timeout: .seconds(60))
            guard output.status.isSuccess else { throw FixtureError("openssl \(step[0]) failed: \(output.standardErrorText)") }
        }
    }
}
