import AgentboxCore

/// A fixture could not be set up; the message says which step failed and shows the tool's
/// error output (fixtures never handle real secrets).
public struct FixtureError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Runs a setup tool, throwing `FixtureError` with its stderr when it fails.
@discardableResult
func runTool(
    _ executable: String, _ arguments: [String], environment: [String: String] = toolEnvironment,
    input: ChildProcess.Input = .null, timeout: Duration = .seconds(60)
) throws -> ChildProcess.Output {
    let output: ChildProcess.Output
    do {
        output = try ChildProcess.run(
            executable: executable, arguments: arguments, environment: environment, input: input, timeout: timeout)
    } catch {
        throw FixtureError("\(executable) \(arguments.first ?? ""): \(error)")
    }
    guard output.status.isSuccess else {
        throw FixtureError(
            "\(executable) \(arguments.joined(separator: " ")): \(output.status): \(output.standardErrorText)")
    }
    return output
}

/// The environment fixtures run their setup tools with.
let toolEnvironment = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"]
