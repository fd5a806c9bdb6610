import AgentboxCore
import TestSupport
import Testing

/// `TOOL COMMAND --help` prints that command's own usage and options, not the whole help, and
/// exits 0; `TOOL --help` prints the whole help.
@Suite struct HelpTests {
    struct Case: CustomStringConvertible {
        let tool: String
        /// The command words, e.g. `["policy", "check"]`; the first is the command.
        let command: [String]
        /// The options the command's help must explain, each on a line of its own.
        let options: [String]
        /// The tool's other commands, whose synopses must not appear.
        let others: [String]
        var description: String { "\(tool) \(command.joined(separator: " ")) --help" }
    }

    static let agentbox = ["start", "sandbox", "list", "stop", "redact", "doctor"]
    static let broker = [
        "serve", "pending", "approve", "deny", "leases", "revoke", "sessions", "reload", "audit",
        "policy", "explain",
    ]
    static let sandboxOptions = [
        "--workdir", "--network", "--run-as", "--grace", "--seccomp-profile", "--print-plan",
        "--quiet", "--transcript", "--no-masking", "--keep-file",
    ]

    static let cases: [Case] = {
        var cases: [Case] = []
        func add(_ tool: String, _ command: [String], _ options: [String], among commands: [String]) {
            cases.append(
                Case(
                    tool: tool, command: command, options: options,
                    others: commands.filter { $0 != command[0] }))
        }
        add("agentbox", ["start"], sandboxOptions, among: agentbox)
        add("agentbox", ["sandbox"], sandboxOptions, among: agentbox)
        add("agentbox", ["list"], [], among: agentbox)
        add("agentbox", ["stop"], [], among: agentbox)
        add(
            "agentbox", ["redact"],
            [
                "--from-session", "--secret-file", "--secret-value-file", "--no-token-formats",
                "--min-length",
            ], among: agentbox)
        add("agentbox", ["doctor"], [], among: agentbox)
        add(
            "secret-broker", ["serve"], ["--policy", "--socket", "--audit-log", "--no-prompt", "--upstream-ca"],
            among: broker)
        add("secret-broker", ["pending"], ["--json", "--socket"], among: broker)
        add("secret-broker", ["approve"], ["--for", "--socket"], among: broker)
        add("secret-broker", ["deny"], ["--socket"], among: broker)
        add("secret-broker", ["leases"], ["--json", "--socket"], among: broker)
        add("secret-broker", ["revoke"], ["--socket"], among: broker)
        add("secret-broker", ["sessions"], ["--json", "--socket"], among: broker)
        add("secret-broker", ["reload"], ["--socket"], among: broker)
        add("secret-broker", ["audit"], ["--follow", "--json", "--audit-log"], among: broker)
        add("secret-broker", ["policy", "check"], [], among: broker)
        add(
            "secret-broker", ["explain"], ["--host", "--user", "--cwd", "--names", "--agent", "--policy"],
            among: broker)
        add("secrets", ["run"], ["--pristine", "--quiet"], among: ["run", "status"])
        add("secrets", ["status"], [], among: ["run", "status"])
        return cases
    }()

    static func run(_ tool: String, _ arguments: [String]) throws -> ChildProcess.Output {
        try ChildProcess.run(
            executable: try BuiltProducts.path(tool), arguments: arguments,
            environment: ["PATH": "/usr/bin:/bin"], timeout: .seconds(10))
    }

    @Test(arguments: cases)
    func commandHelpIsThatCommandsUsageAndOptions(_ help: Case) throws {
        let output = try Self.run(help.tool, help.command + ["--help"])
        let text = output.standardOutputText
        #expect(output.status == .exited(0), "\(output.standardErrorText)")
        #expect(output.standardErrorText.isEmpty, "\(output.standardErrorText)")
        #expect(text.hasPrefix("usage: \(help.tool) \(help.command.joined(separator: " "))"), "\(text)")
        let whole = try Self.run(help.tool, ["--help"]).standardOutputText
        #expect(text != whole, "the whole help")
        let lines = text.split(separator: "\n").map { $0.drop { $0 == " " } }
        for other in help.others {
            #expect(
                !lines.contains { $0.hasPrefix("\(help.tool) \(other)") || $0.hasPrefix("\(other) [") },
                "\(other)'s usage is in \(help): \(text)")
        }
        for option in help.options {
            #expect(lines.contains { $0.hasPrefix(option) }, "\(option) is not explained: \(text)")
        }
        #expect(text.contains("Exit status:"), "\(text)")
        // -h says the same, and so does `TOOL help COMMAND` where there is one.
        #expect(try Self.run(help.tool, help.command + ["-h"]).standardOutputText == text)
        if help.tool != "secrets" {
            #expect(try Self.run(help.tool, ["help", help.command[0]]).standardOutputText == text)
        }
    }

    @Test(arguments: ["agentbox", "secret-broker", "secrets", "devssh"])
    func toolHelpIsTheWholeHelp(_ tool: String) throws {
        let output = try Self.run(tool, ["--help"])
        #expect(output.status == .exited(0), "\(output.standardErrorText)")
        #expect(output.standardOutputText.hasPrefix("usage: \(tool) "))
        #expect(output.standardOutputText.contains("Exit status:"))
        if tool == "devssh" {
            for option in ["--broker", "--ssh", "--local"] {
                #expect(output.standardOutputText.contains("\n  \(option) "), "\(option)")
            }
        }
    }

    /// A `--help` after `--` belongs to the command that is run, not to the tool.
    @Test func helpAfterTheCommandSeparatorIsNotTheToolsHelp() throws {
        let output = try Self.run(
            "secret-broker",
            [
                "explain", "p", "--host", "h", "--policy", "/nonexistent/p.yaml",
                "--", "ls", "--help",
            ])
        #expect(!output.standardOutputText.hasPrefix("usage:"), "\(output.standardOutputText)")
        #expect(output.status == .exited(65), "\(output.standardErrorText)")
    }
}
