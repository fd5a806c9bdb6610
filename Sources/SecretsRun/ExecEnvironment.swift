import AgentboxCore
import BrokerProtocol

/// One `NAME=VALUE` entry of the environment handed to execve, as bytes.
public struct EnvironmentVariable: Equatable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// Builds the explicit environment for the target command.
public enum ExecEnvironment {
    /// Variables a `--pristine` environment keeps from the caller.
    public static let pristineBase = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "TZ", "TMPDIR"]

    /// Variables of the session that never reach the target: it must not be able to ask for more.
    public static let sessionVariables = [RemoteRuntimeDirectory.nonceEnvironmentName,
                                          RemoteRuntimeDirectory.socketEnvironmentName]

    /// The inherited environment with every granted name replaced (all duplicates removed) and the
    /// session's own variables dropped; with `pristine`, only a minimal base plus the grant.
    public static func build(
        inherited: [[UInt8]], granted: [EnvironmentVariable], pristine: Bool
    ) -> [EnvironmentVariable] {
        let grantedNames = Set(granted.map(\.name))
        var result: [EnvironmentVariable] = []
        for entry in inherited {
            guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = String(decoding: entry[..<equals], as: UTF8.self)
            if grantedNames.contains(name) || sessionVariables.contains(name) { continue }
            if pristine && !(pristineBase.contains(name) || name.hasPrefix("LC_")) { continue }
            if result.contains(where: { $0.name == name }) { continue }
            result.append(EnvironmentVariable(name: name, value: Array(entry[(equals + 1)...])))
        }
        return result + granted
    }

    /// Decodes and validates a lease's environment: valid names, no NUL, no duplicates.
    public static func granted(from grant: LeaseGrant) throws(SecretsError) -> [EnvironmentVariable] {
        var result: [EnvironmentVariable] = []
        for entry in grant.environment {
            guard EnvironmentName.isValid(entry.name) else {
                throw .protocolViolation("invalid environment name \(displayName(entry.name))")
            }
            guard !result.contains(where: { $0.name == entry.name }) else {
                throw .protocolViolation("\(entry.name) granted twice")
            }
            guard let value = Base64.decode(entry.valueBase64) else {
                throw .protocolViolation("the value of \(entry.name) is not valid base64")
            }
            guard !value.contains(0) else {
                throw .protocolViolation("the value of \(entry.name) contains a NUL byte, which no environment can carry")
            }
            result.append(EnvironmentVariable(name: entry.name, value: value))
        }
        return result
    }

    private static func displayName(_ name: String) -> String {
        String(name.unicodeScalars.prefix(64).map { $0.isASCII && $0.value >= 0x20 ? Character($0) : "?" })
    }
}
