import AgentboxCore
import Foundation
import TestSupport

/// The values the end-to-end tests hand out, and the policy that hands them out.
enum TestSecrets {
    /// A pass entry made to break every naive way of carrying a value: several lines, `=`,
    /// both quotes, `$`, backticks, a backslash, non-ASCII, and a trailing newline of its own.
    static let databasePassword: [UInt8] =
        Array(
            "first line of the db password\npa=ss \"double\" 'single' $HOME ${PATH} `id` $(id) \\ back\n"
                .utf8) + Array("ünïcødé € 日本 🔑 =\t=\nlast line\n".utf8)

    /// A `file://` secret: the whole file, byte for byte, trailing newline included.
    static let apiToken: [UInt8] = Array("tok-\(Crypto.randomToken(byteCount: 12))=$X`y`\"z\"\n".utf8)

    static let apiTokenFile = "api-token"
    static let databasePasswordFile = "db-password"

    /// Writes the `file://` secrets (0600, root) into the laptop directory; with `pass`, stores
    /// the database password there too (inserted with one extra newline, which pass drops).
    static func store(in laptop: TemporaryDirectory, pass: PassStoreFixture?) throws {
        try laptop.write(apiTokenFile, apiToken)
        try laptop.write(databasePasswordFile, databasePassword)
        try pass?.insert(path: "billing/db-password", value: databasePassword + [0x0A])
    }

    /// The policy: `billing-dev` (no approval), `approved` (approval with a 5s timeout), and an
    /// agent profile `agent-tool`.
    static func policy(_ names: RemoteWorld.Names, usePass: Bool) -> String {
        let databaseReference =
            usePass ? "pass://billing/db-password" : "file://\(names.laptop)/\(databasePasswordFile)"
        return """
            version: 1
            profiles:
              billing-dev:
                allowedHosts: [\(RemoteWorld.hostAlias)]
                allowedRemoteUsers: [\(names.user)]
                allowedPaths: [\(names.home)/work/billing/**]
                allowedCommands:
                  - /usr/bin/env -0
                  - /usr/bin/printenv DB_PASSWORD
                  - /usr/bin/printenv API_TOKEN
                  - /bin/sleep 3
                secrets:
                  DB_PASSWORD: \(databaseReference)
                  API_TOKEN: file://\(names.laptop)/\(apiTokenFile)
                ttl: 1h
              approved:
                allowedHosts: [\(RemoteWorld.hostAlias)]
                allowedRemoteUsers: [\(names.user)]
                allowedPaths: [\(names.home)/work/billing/**]
                allowedCommands: ["/usr/bin/printenv API_TOKEN"]
                secrets:
                  API_TOKEN: file://\(names.laptop)/\(apiTokenFile)
                requireApproval: true
                approvalTimeout: 5s
              agent-tool:
                agent: true
                allowedHosts: [\(RemoteWorld.hostAlias)]
                allowedCommands: ["/usr/bin/env -0"]
                secrets:
                  API_TOKEN: file://\(names.laptop)/\(apiTokenFile)

            """
    }

    /// A world with the standard secrets and policy.
    static func world(usePass: Bool = false) throws -> RemoteWorld {
        try RemoteWorld(
            usePass: usePass, setUpLaptop: { laptop, pass in try store(in: laptop, pass: pass) },
            policy: { policy($0, usePass: usePass) })
    }

    /// `NAME=VALUE` entries of `env -0` output, values as bytes.
    static func environment(fromNULSeparated output: [UInt8]) -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for entry in output.split(separator: 0) {
            guard let equals = entry.firstIndex(of: UInt8(ascii: "=")) else { continue }
            result[String(decoding: entry[..<equals], as: UTF8.self)] = Array(entry[(equals + 1)...])
        }
        return result
    }
}

/// `text` with every test secret (and each line of the multi-line one) replaced by its name and
/// length, for failure messages: the tests never print a value, even a test value.
func redact(_ text: String) -> String {
    var result = text
    var values = [("DB_PASSWORD", TestSecrets.databasePassword), ("API_TOKEN", TestSecrets.apiToken)]
    values += TestSecrets.databasePassword.split(separator: 0x0A).filter { $0.count >= 4 }.map {
        ("a line of DB_PASSWORD", Array($0))
    }
    for (name, value) in values {
        result = result.replacingOccurrences(
            of: String(decoding: value, as: UTF8.self), with: "<\(name), \(value.count) bytes>")
    }
    return result
}
