import AgentboxCore
import Foundation
import TestSupport
import Testing

/// devssh without an ssh client to run says so, says how to name one, and exits 127, before it
/// registers anything with a broker.
@Suite struct MissingSSHTests {
    struct Case: CustomStringConvertible {
        let description: String
        let arguments: [String]
        let path: String?
        let message: String
    }

    static let cases = [
        Case(
            description: "no ssh on PATH", arguments: ["devbox"], path: "/nonexistent/bin",
            message:
                "devssh: ssh not found: no executable ssh on PATH (/nonexistent/bin); install the OpenSSH client, or name one with --ssh PATH\n"
        ),
        Case(
            description: "PATH unset", arguments: ["devbox", "true"], path: nil,
            message:
                "devssh: ssh not found: no executable ssh (PATH is not set); install the OpenSSH client, or name one with --ssh PATH\n"
        ),
        Case(
            description: "--ssh names a missing file", arguments: ["--ssh", "/nonexistent/ssh", "devbox"],
            path: "/usr/bin:/bin",
            message:
                "devssh: ssh not found: --ssh /nonexistent/ssh is not an executable file; name an ssh client with --ssh PATH\n"
        ),
        Case(
            description: "--ssh names a file that is not executable", arguments: ["--ssh", "DIR/ssh", "devbox"],
            path: "/usr/bin:/bin",
            message:
                "devssh: ssh not found: --ssh DIR/ssh is not an executable file; name an ssh client with --ssh PATH\n"),
        Case(
            description: "--ssh names a program not on PATH", arguments: ["--ssh", "no-such-ssh", "devbox"],
            path: "/usr/bin:/bin",
            message:
                "devssh: ssh not found: no executable no-such-ssh on PATH (/usr/bin:/bin); name an ssh client with --ssh PATH\n"
        ),
    ]

    @Test(arguments: cases)
    func missingSSHClientExits127AndSaysHowToNameOne(_ missing: Case) throws {
        let directory = try TemporaryDirectory(prefix: "abd")
        try directory.write("ssh", Array("#!/bin/sh\nexit 0\n".utf8), mode: 0o644)
        var environment = [
            "HOME": directory.path, "XDG_RUNTIME_DIR": directory.path,
            "SECRET_BROKER_SOCKET": directory.file("control.sock"),
        ]
        environment["PATH"] = missing.path
        let output = try ChildProcess.run(
            executable: try BuiltProducts.path("devssh"),
            arguments: missing.arguments.map {
                $0.replacingOccurrences(of: "DIR", with: directory.path)
            },
            environment: environment, timeout: .seconds(10))
        #expect(output.status == .exited(127), "\(output.standardErrorText)")
        #expect(output.standardErrorText == missing.message.replacingOccurrences(of: "DIR", with: directory.path))
        #expect(output.standardOutputText.isEmpty)
    }
}
