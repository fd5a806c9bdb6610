// swift-tools-version:6.0
import PackageDescription

/// `make release` sets AGENTBOX_STATIC_PIE=1: the binaries that run on the remote box (and
/// devssh, at every ssh) are linked static-pie there, with glibc and the Swift runtime inside. A
/// dynamically linked start costs the loader's symbol lookups and relocations (~0.3 ms of the
/// ~1.4 ms agentbox takes to start); static-pie keeps ASLR. It needs `-static-stdlib` (part of
/// `make release`), so a plain `swift build` links them dynamically.
let remoteBinaryLinking: [LinkerSetting] =
    Context.environment["AGENTBOX_STATIC_PIE"] == "1"
    ? [
        .unsafeFlags(
            ["-Xclang-linker", "-static-pie", "-Xclang-linker", "-Wno-unused-command-line-argument"],
            .when(platforms: [.linux]))
    ] : []

let package = Package(
    name: "agentbox",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "secret-broker", targets: ["secret-broker"]),
        .executable(name: "devssh", targets: ["devssh"]),
        .executable(name: "secrets", targets: ["secrets"]),
        .executable(name: "agentbox", targets: ["agentbox"]),
    ],
    targets: [
        // Debian's C libraries, wrapped as system library targets.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        // Our own small C targets: syscalls that are unsafe or awkward from Swift.
        .target(name: "CAgentboxSys"),
        // The sandbox's namespace, mount, privilege, seccomp and exec path (runs in forked children).
        .target(
            name: "CSandbox", dependencies: ["CAgentboxSys", "CSeccomp", "CCap"],
            linkerSettings: [.linkedLibrary("seccomp"), .linkedLibrary("cap")]),

        // Libraries.
        .target(name: "AgentboxCore", dependencies: ["CAgentboxSys"]),
        .target(name: "YAMLDocument", dependencies: ["CYAML"]),
        .target(name: "Policy", dependencies: ["AgentboxCore", "YAMLDocument"]),
        .target(name: "Vaults", dependencies: ["AgentboxCore"]),
        .target(name: "BrokerProtocol", dependencies: ["AgentboxCore"]),
        .target(name: "UnixHTTP", dependencies: ["AgentboxCore", "CMicroHTTPD", "CAgentboxSys"]),
        .target(name: "UnixHTTPClient", dependencies: ["AgentboxCore", "CAgentboxSys"]),
        .target(
            name: "CredentialProxy",
            dependencies: ["AgentboxCore", "CAgentboxSys", "CMicroHTTPD", "CCurl", "Policy", "UnixHTTP", "Redaction"]),
        .target(name: "BrokerControl", dependencies: ["AgentboxCore", "BrokerProtocol", "UnixHTTPClient"]),
        .target(
            name: "Broker",
            dependencies: [
                "AgentboxCore", "CAgentboxSys", "CCrypto", "Policy", "Vaults", "BrokerProtocol", "UnixHTTP", "BrokerControl",
                "CredentialProxy",
            ]),
        .target(
            name: "SecretsRun",
            dependencies: ["AgentboxCore", "BrokerProtocol", "UnixHTTPClient", "YAMLDocument", "CAgentboxSys"]),
        .target(name: "Sandbox", dependencies: ["AgentboxCore", "CAgentboxSys", "CSandbox"]),
        .target(name: "Agentbox", dependencies: ["AgentboxCore", "BrokerProtocol", "SecretsRun", "Sandbox", "Redaction"]),
        .target(name: "DevSSH", dependencies: ["AgentboxCore", "BrokerProtocol", "BrokerControl", "SecretsRun"]),
        .target(name: "Redaction", dependencies: ["AgentboxCore"]),

        // Thin executables.
        .executableTarget(name: "secret-broker", dependencies: ["Broker"]),
        .executableTarget(name: "devssh", dependencies: ["DevSSH"], linkerSettings: remoteBinaryLinking),
        .executableTarget(name: "secrets", dependencies: ["SecretsRun"], linkerSettings: remoteBinaryLinking),
        .executableTarget(name: "agentbox", dependencies: ["Agentbox"], linkerSettings: remoteBinaryLinking),
        .executableTarget(name: "agentbox-redact", dependencies: ["Redaction"]),

        // Benchmarks (`make bench`).
        .executableTarget(name: "redactor-bench", dependencies: ["Redaction", "TestSupport"], path: "bench/redactor"),

        // Test support and tests.
        .target(name: "TestSupport", dependencies: ["AgentboxCore", "CAgentboxSys"], path: "Tests/TestSupport"),
        .testTarget(name: "AgentboxCoreTests", dependencies: ["AgentboxCore"]),
        .testTarget(name: "YAMLDocumentTests", dependencies: ["YAMLDocument"]),
        .testTarget(name: "BrokerProtocolTests", dependencies: ["BrokerProtocol", "TestSupport"]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "TestSupport"]),
        .testTarget(name: "VaultsTests", dependencies: ["Vaults", "TestSupport"]),
        .testTarget(name: "UnixHTTPTests", dependencies: ["UnixHTTP", "UnixHTTPClient", "TestSupport"]),
        .testTarget(name: "CredentialProxyTests", dependencies: ["CredentialProxy", "TestSupport"]),
        .testTarget(name: "BrokerTests", dependencies: ["Broker", "TestSupport"]),
        .testTarget(name: "SecretsRunTests", dependencies: ["SecretsRun", "TestSupport"]),
        .testTarget(name: "DevSSHTests", dependencies: ["DevSSH", "TestSupport"]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "Agentbox", "Redaction", "TestSupport", "CAgentboxSys"], exclude: ["Probes"]),
        .testTarget(name: "RedactionTests", dependencies: ["Redaction", "TestSupport"]),
        .testTarget(
            name: "ProxyEndToEndTests",
            dependencies: ["Broker", "SecretsRun", "CredentialProxy", "BrokerProtocol", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Broker", "SecretsRun", "DevSSH", "TestSupport"]),
    ]
)
