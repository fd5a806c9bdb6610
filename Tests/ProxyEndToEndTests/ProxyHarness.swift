import AgentboxCore
import BrokerProtocol
import CredentialProxy
import Policy
import SecretsRun
import TestSupport
import Vaults

@testable import Broker

/// A broker core in this process (real policy file, file:// vault, real session and proxy
/// sockets), a fake upstream on loopback, and the remote end's relay on 127.0.0.1.
final class ProxyHarness: @unchecked Sendable {
    let directory: TemporaryDirectory
    let upstream: FakeUpstream
    let core: BrokerCore
    let auditPath: String
    let realKey = "sk-real-" + Crypto.randomToken(byteCount: 16)

    init(maxBodyBytes: Int = 4096, upstreamCA: String? = nil, tls: (certificate: String, key: String)? = nil,
         allowPrivate: Bool = true, upstreamHost: String = "127.0.0.1") throws {
        directory = try TemporaryDirectory(prefix: "abpx")
        upstream = try FakeUpstream(expectedKey: realKey, tls: tls)
        let vault = try directory.write("vault.env", Array("OPENAI=\(realKey)\nANTHROPIC=\(realKey)\n".utf8))
        let scheme = tls == nil ? "http" : "https"
        let policy = """
            version: 1
            profiles:
              models:
                allowedHosts: [devbox]
                allowedRemoteUsers: [alex, \(SecretsCommand.currentUserName())]
                ttl: 1h
                secrets:
                  OPENAI_API_KEY:
                    from: file://\(vault)#OPENAI
                    class: proxy
                    proxy:
                      upstream: \(scheme)://\(upstreamHost):\(upstream.port)/v1
                      baseUrlEnv: OPENAI_BASE_URL
                      header: "Authorization: Bearer {secret}"
                      allow: ["POST /chat/completions", "POST /responses", "GET /models", "GET /timed", "GET /ndjson",
                              "* /echo", "GET /big", "GET /small", "GET /hang"]
                      maxBodyBytes: \(maxBodyBytes)
                      allowPrivateUpstream: \(allowPrivate)
                  ANTHROPIC_API_KEY:
                    from: file://\(vault)#ANTHROPIC
                    class: proxy
                    proxy:
                      upstream: \(scheme)://\(upstreamHost):\(upstream.port)
                      baseUrlEnv: ANTHROPIC_BASE_URL
                      header: "x-api-key: {secret}"
                      allow: ["POST /v1/messages"]
                      allowPrivateUpstream: \(allowPrivate)
                  ROOT_TOKEN: { from: "file://\(vault)#OPENAI", class: never }

            """
        let policyPath = try directory.write("policy.yaml", Array(policy.utf8))
        auditPath = directory.file("audit.log")
        core = try BrokerCore(
            policy: LoadedPolicy(policy: try PolicyLoader.load(path: policyPath)),
            secrets: VaultSecretSource(registry: .standard(), progress: { _ in }),
            audit: try AuditLog(path: auditPath), sessionDirectory: directory.file("sessions"),
            upstreamOptions: UpstreamOptions(caFile: upstreamCA))
    }

    deinit {
        core.shutdown()
        directory.remove()
    }

    struct Lease {
        let grant: LeaseGrant
        let session: SessionCreated
        let client: LeaseClient
        let relay: ProxyRelay
        let proxySocket: String

        func placeholder(_ name: String) -> String {
            let entry = grant.environment.first { $0.name == name }!
            return String(decoding: Base64.decode(entry.valueBase64)!, as: UTF8.self)
        }

        func baseURL(_ name: String) -> String {
            let endpoint = grant.proxies.first { $0.secretName == name }!
            return "http://127.0.0.1:\(relay.port)\(endpoint.pathPrefix)"
        }
    }

    func lease(names: [String] = []) throws -> Lease {
        let session = try core.registerSession(SessionRegistration(host: "devbox", remoteUser: "alex", ownerPid: 0))
        let client = LeaseClient(socketPath: session.socketPath, nonce: session.nonce, progress: { _ in })
        let grant = try client.requestLease(
            LeaseRequest(profile: "models", cwd: "/home/alex/work", argv: ["python3"], requestedNames: names,
                         remoteUser: "alex", agent: false))
        let socket = try require(try ProxyRelay.proxySocketPath(grant, sessionSocket: session.socketPath))
        return Lease(grant: grant, session: session, client: client, relay: try ProxyRelay(socketPath: socket),
                     proxySocket: socket)
    }

    /// Runs `Tests/Fixtures/proxy-client.py`.
    func client(_ arguments: [String], timeout: Duration = .seconds(60)) throws -> ChildProcess.Output {
        try ChildProcess.run(
            executable: "/usr/bin/env", arguments: ["python3", FakeUpstream.fixturesDirectory + "/proxy-client.py"] + arguments,
            environment: ProcessEnvironment.current.filter { !$0.key.hasSuffix("_proxy") && !$0.key.hasSuffix("_PROXY") },
            timeout: timeout)
    }

    var auditText: String { FileIO.readText(auditPath) }
}

func require<T>(_ value: T?, _ message: String = "missing value") throws -> T {
    guard let value else { throw FixtureError(message) }
    return value
}
