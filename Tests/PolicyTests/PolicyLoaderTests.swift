import Testing

@testable import Policy

/// The file:line:column error for each mistake a policy author can make.
@Suite struct PolicyLoaderTests {
    /// A valid profile header to put mistakes under (profile at line 3).
    private func profile(_ body: String) -> String {
        "version: 1\nprofiles:\n  dev:\n    allowedHosts: [box]\n" + body
    }

    @Test func misspelledKeyIsRefusedWithASuggestion() {
        #expect(
            policyErrors(profile("    allowedPath: [/home/alex/**]\n")) == [
                "policy.yaml:5:5: error: unknown key allowedPath in profile dev; did you mean allowedPaths?"
            ])
    }

    @Test func unknownTopLevelKeyIsRefused() {
        #expect(
            policyErrors("version: 1\nprofiles: {}\ndefaults: {}\n") == [
                "policy.yaml:3:1: error: unknown key defaults in the policy; known keys: version, profiles"
            ])
    }

    @Test func stringWhereAListBelongsIsAWrongType() {
        #expect(
            policyErrors("version: 1\nprofiles:\n  dev:\n    allowedHosts: box\n") == [
                "policy.yaml:4:19: error: allowedHosts of profile dev must be a list, got a string; write e.g. [\"value\"]"
            ])
    }

    @Test func quotedBooleanIsAWrongTypeNotSilentlyTrue() {
        #expect(
            policyErrors(profile("    requireApproval: \"false\"\n")) == [
                "policy.yaml:5:22: error: requireApproval of profile dev must be true or false, got a string (remove the quotes)"
            ])
        #expect(
            policyErrors(profile("    requireApproval: no\n")) == [
                "policy.yaml:5:22: error: requireApproval of profile dev must be true or false, got a string no (write true or false)"
            ])
    }

    @Test func badDurationIsRefused() {
        #expect(
            policyErrors(profile("    ttl: 4 hours\n")) == [
                "policy.yaml:5:10: error: bad duration for ttl of profile dev: '4 hours' is not a duration; write e.g. 30m, 4h or 1h30m"
            ])
        #expect(
            policyErrors(profile("    approvalTimeout: 0s\n")) == [
                "policy.yaml:5:22: error: bad duration for approvalTimeout of profile dev: a duration must be longer than zero"
            ])
    }

    @Test func secretNameThatIsNotAnEnvironmentNameIsRefused() {
        #expect(
            policyErrors(profile("    secrets:\n      db-url: pass://db/url\n")) == [
                "policy.yaml:6:7: error: secret name db-url in profile dev is not a valid environment variable name (letters, digits and _, not starting with a digit); did you mean DB_URL?"
            ])
    }

    @Test func namesThatCollideInTheEnvironmentAreRefused() {
        #expect(
            policyErrors(profile("    secrets:\n      DB_URL: pass://a\n      db_url: pass://b\n")) == [
                "policy.yaml:7:7: error: secret db_url collides with secret DB_URL (line 6) in profile dev: both are the environment variable DB_URL up to case and '-'; rename one"
            ])
    }

    @Test func baseUrlEnvCannotOverwriteAnInjectedSecret() {
        let text = profile(
            """
                secrets:
                  OPENAI_BASE_URL: pass://a
                  KEY:
                    from: pass://b
                    class: proxy
                    proxy:
                      upstream: https://api.example.com
                      baseUrlEnv: OPENAI_BASE_URL
                      header: "Authorization: Bearer {secret}"
                      allow: ["GET /x"]

            """)
        #expect(
            policyErrors(text) == [
                "policy.yaml:12:23: error: baseUrlEnv OPENAI_BASE_URL of secret KEY of profile dev collides with secret OPENAI_BASE_URL (line 6) in profile dev: both are the environment variable OPENAI_BASE_URL up to case and '-'; rename one"
            ])
    }

    @Test func duplicateKeyIsRefusedNotLastOneWins() {
        #expect(
            policyErrors(profile("    ttl: 1h\n    ttl: 72h\n")) == [
                "policy.yaml:6:5: error: duplicate key ttl in profile dev (first at line 5); keep one"
            ])
        #expect(
            policyErrors(profile("  dev:\n    allowedHosts: [\"*\"]\n")) == [
                "policy.yaml:5:3: error: duplicate profile dev (first defined at line 3); merge them or rename one"
            ])
    }

    @Test func relativePathPatternIsRefused() {
        #expect(
            policyErrors(profile("    allowedPaths: [work/billing/**, ~/work/**, /a/../b/**]\n")) == [
                "policy.yaml:5:20: error: path pattern work/billing/** in allowedPaths of profile dev is not absolute; write the full path starting with /, e.g. /home/alex/work/billing/**",
                "policy.yaml:5:37: error: path pattern ~/work/** in allowedPaths of profile dev is not absolute: write the home directory out in full (e.g. /home/alex/...)",
                "policy.yaml:5:48: error: path pattern /a/../b/** in allowedPaths of profile dev contains '..'; write the canonical path (the working directory is compared after realpath)",
            ])
    }

    @Test func unknownReferenceSchemeIsRefused() {
        #expect(
            policyErrors(
                profile("    secrets:\n      TOKEN: vault://kv/token\n      OTHER: pas://x\n      BARE: github-token\n")
            ) == [
                "policy.yaml:6:14: error: unknown reference scheme vault:// in secret TOKEN of profile dev (known: pass, op, keychain, secret-tool, keepassxc, bw, file, aws-sts, github-app, postgres-role)",
                "policy.yaml:7:14: error: unknown reference scheme pas:// in secret OTHER of profile dev; did you mean pass://? (known: pass, op, keychain, secret-tool, keepassxc, bw, file, aws-sts, github-app, postgres-role)",
                "policy.yaml:8:13: error: reference of secret BARE of profile dev is not a URI; write scheme://location, e.g. pass://billing/db-password",
            ])
    }

    @Test func missingAllowedHostsIsRefused() {
        #expect(
            policyErrors("version: 1\nprofiles:\n  dev:\n    ttl: 1h\n") == [
                "policy.yaml:3:3: error: profile dev is missing required key allowedHosts; list the hosts it may be used from, e.g. allowedHosts: [remote-devbox-1], or [\"*\"] for any host"
            ])
    }

    @Test func agentProfileWithoutAllowedCommandsIsRefused() {
        #expect(
            policyErrors("version: 1\nprofiles:\n  bot:\n    agent: true\n    allowedHosts: [box]\n") == [
                "policy.yaml:3:3: error: profile bot is missing required key allowedCommands: agent profiles must list the commands they may run, e.g. allowedCommands: [\"codex\", \"codex *\"]"
            ])
    }

    @Test func agentOnlyKeyOnAPlainProfileIsRefused() {
        #expect(
            policyErrors(profile("    network: none\n    runAs: agent1\n")) == [
                "policy.yaml:5:5: error: network applies only to agent profiles; remove it from profile dev or add `agent: true`",
                "policy.yaml:6:5: error: runAs applies only to agent profiles; remove it from profile dev or add `agent: true`",
            ])
    }

    @Test func missingOrWrongVersionIsRefused() {
        #expect(
            policyErrors("profiles: {}\n") == [
                "policy.yaml:1:1: error: missing required key version; add `version: 1` at the top of the file"
            ])
        #expect(
            policyErrors("version: 2\nprofiles: {}\n") == [
                "policy.yaml:1:10: error: unsupported policy version 2; this broker reads version: 1"
            ])
        #expect(
            policyErrors("version: \"1\"\nprofiles: {}\n") == [
                "policy.yaml:1:10: error: unsupported policy version 1; this broker reads version: 1"
            ])
    }

    @Test func invalidProfileNameIsRefused() {
        #expect(
            policyErrors("version: 1\nprofiles:\n  Billing Dev:\n    allowedHosts: [box]\n") == [
                "policy.yaml:3:3: error: invalid profile name Billing Dev; use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (e.g. billing-dev)"
            ])
    }

    @Test func proxyMistakesAreEachReported() {
        let text = profile(
            """
                agent: true
                allowedCommands: [codex]
                secrets:
                  KEY:
                    from: pass://k
                    class: proxy
                    proxy:
                      upstream: http://api.example.com
                      baseUrlEnv: BASE-URL
                      header: "Bad Header: {secret} {secret}"
                      allow: ["post /x", "GET x"]
                      maxBodyBytes: -1
                  LEAK:
                    from: pass://l
                    proxy: { upstream: "https://a" }

            """)
        #expect(
            policyErrors(text) == [
                "policy.yaml:12:21: error: upstream http://api.example.com of proxy of secret KEY of profile dev must use https (plain http is allowed only for loopback hosts)",
                "policy.yaml:13:23: error: baseUrlEnv BASE-URL of proxy of secret KEY of profile dev is not a valid environment variable name",
                "policy.yaml:14:19: error: header name Bad Header of proxy of secret KEY of profile dev is not a valid HTTP header name",
                "policy.yaml:15:19: error: allow entry post /x of proxy of secret KEY of profile dev must be \"METHOD /path\", e.g. \"POST /chat/completions\" or \"GET /models/*\"",
                "policy.yaml:15:30: error: allow entry GET x of proxy of secret KEY of profile dev must be \"METHOD /path\", e.g. \"POST /chat/completions\" or \"GET /models/*\"",
                "policy.yaml:16:25: error: maxBodyBytes of proxy of secret KEY of profile dev must be a positive whole number of bytes, got a string",
                "policy.yaml:19:9: error: proxy settings are only for class proxy, but secret LEAK of profile dev has class inject; set class: proxy or remove proxy",
            ])
    }

    @Test func headerNeedsExactlyOneSecretPlaceholder() {
        let text = profile(
            """
                secrets:
                  KEY:
                    from: pass://k
                    class: proxy
                    proxy:
                      upstream: http://127.0.0.1:8080/v1
                      baseUrlEnv: BASE
                      header: "x-api-key: {secret}{secret}"
                      allow: ["POST /messages"]

            """)
        #expect(
            policyErrors(text) == [
                "policy.yaml:12:19: error: header of proxy of secret KEY of profile dev must contain {secret} exactly once, in the value (found 2)"
            ])
    }

    @Test func loopbackHTTPUpstreamIsAllowedForTests() throws {
        let text = profile(
            """
                secrets:
                  KEY:
                    from: file:///tmp/key
                    class: proxy
                    proxy:
                      upstream: http://127.0.0.1:8080/v1/
                      baseUrlEnv: BASE
                      header: "x-api-key: {secret}"
                      allow: ["POST /messages", "* /any/**"]
                      allowPrivateUpstream: true

            """)
        let policy = try parsePolicy(text)
        let proxy = try #require(policy.profiles[0].secrets[0].proxy)
        #expect(proxy.upstream.host == "127.0.0.1")
        #expect(proxy.upstream.port == 8080)
        #expect(proxy.upstream.path == "/v1")
        #expect(proxy.headerName == "x-api-key")
        #expect(proxy.headerValue(secret: "s3") == "s3")
        #expect(proxy.maxBodyBytes == 10 * 1024 * 1024)
        #expect(proxy.allowPrivateUpstream)
        #expect(proxy.allows(method: "POST", path: "/messages"))
        #expect(proxy.allows(method: "DELETE", path: "/any/thing"))
        #expect(!proxy.allows(method: "GET", path: "/messages"))
    }

    @Test func upstreamWithCredentialsOrLookalikeLoopbackIsRefused() {
        #expect(throws: UpstreamURL.ParseError.malformed("must not carry a user name or password")) {
            try UpstreamURL.parse("https://user:pw@api.example.com")
        }
        #expect(throws: UpstreamURL.ParseError.notHTTPS) { try UpstreamURL.parse("http://127.0.0.1.evil.test/") }
        #expect(throws: UpstreamURL.ParseError.notHTTPS) { try UpstreamURL.parse("http://localhost.evil.test") }
        #expect((try? UpstreamURL.parse("http://[::1]:9000"))?.isLoopback == true)
        #expect((try? UpstreamURL.parse("http://localhost:9000"))?.port == 9000)
    }

    @Test func neverSecretMayNotCarryProxySettingsAndProxyNeedsThem() {
        #expect(
            policyErrors(
                profile("    secrets:\n      A: { from: \"pass://a\", class: proxy }\n      B: { class: never }\n"))
                == [
                    "policy.yaml:6:10: error: secret A of profile dev has class proxy but no proxy settings; add proxy: {upstream, baseUrlEnv, header, allow}",
                    "policy.yaml:7:10: error: secret B of profile dev is missing required key from (the vault reference, e.g. from: pass://github/token)",
                ])
    }

    @Test func everyErrorIsCollectedInOnePassSortedByPosition() {
        let text = """
            profiles:
              dev:
                allowedHost: [box]
                ttl: forever
                secrets:
                  db-url: pass://x
                  TOKEN: vault://x
              bot:
                agent: true
                allowedHosts: [box]
                runAs: root
              plain:
                allowedHosts: [box]
                network: host
                onDisconnect: later
            """
        let errors = policyErrors(text)
        #expect(errors.count == 10)
        #expect(
            errors.first
                == "policy.yaml:1:1: error: missing required key version; add `version: 1` at the top of the file")
        let positions = errors.map { line -> [Int] in line.split(separator: ":").dropFirst().prefix(2).map { Int($0)! }
        }
        #expect(positions == positions.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(
            positions == [
                [1, 1], [2, 3], [3, 5], [4, 10], [6, 7], [7, 14], [8, 3], [11, 12], [14, 5], [15, 19],
            ])
    }

    @Test func defaultsDifferForAgentAndPlainProfiles() throws {
        let policy = try parsePolicy(
            "version: 1\nprofiles:\n  plain:\n    allowedHosts: [box]\n  bot:\n    agent: true\n    allowedHosts: [box]\n    allowedCommands: [codex]\n"
        )
        let plain = try #require(policy.profile(named: "plain"))
        #expect(!plain.isAgent)
        #expect(plain.ttl == .seconds(3600))
        #expect(!plain.requireApproval)
        #expect(plain.approvalTimeout == .seconds(120))
        #expect(plain.onDisconnect == .continue)
        #expect(plain.network == nil)
        #expect(plain.allowedRemoteUsers == nil && plain.allowedPaths == nil && plain.allowedCommands == nil)
        let bot = try #require(policy.profile(named: "bot"))
        #expect(bot.isAgent)
        #expect(bot.requireApproval)
        #expect(bot.onDisconnect == .kill)
        #expect(bot.network == .proxyOnly)
        #expect(bot.runAs == nil)
    }

    @Test func unrestrictedKeysProduceWarningsNotErrors() throws {
        let policy = try parsePolicy("version: 1\nprofiles:\n  plain:\n    allowedHosts: [box]\n")
        #expect(
            policy.warnings.map(\.description) == [
                "policy.yaml:3:3: warning: profile plain has no allowedRemoteUsers: any remote user may use it",
                "policy.yaml:3:3: warning: profile plain has no allowedPaths: it may be used from any directory",
                "policy.yaml:3:3: warning: profile plain has no allowedCommands: it may be used to run any command",
            ])
    }

    @Test func emptyListAllowsNothing() throws {
        let policy = try parsePolicy(
            "version: 1\nprofiles:\n  p:\n    allowedHosts: [box]\n    allowedPaths: []\n    secrets: {A: pass://a}\n")
        let request = AccessRequest(host: "box", remoteUser: "u", profile: "p", cwd: "/", argv: ["x"])
        #expect(policy.evaluate(request).denial?.reason == .pathNotAllowed)
    }

    @Test func graceDisconnectAndRunAsAreRead() throws {
        let policy = try parsePolicy(
            "version: 1\nprofiles:\n  bot:\n    agent: true\n    allowedHosts: [box]\n    allowedCommands: [codex]\n    onDisconnect: grace 5m\n    runAs: agent1\n    network: none\n    requireApproval: false\n"
        )
        let bot = try #require(policy.profile(named: "bot"))
        #expect(bot.onDisconnect == .grace(.seconds(300)))
        #expect(bot.runAs == "agent1")
        #expect(bot.network == NetworkMode.none)
        #expect(!bot.requireApproval)
    }

    @Test func rulesRememberTheirLines() throws {
        let policy = try parsePolicy(samplePolicy)
        let billing = try #require(policy.profile(named: "billing-dev"))
        #expect(billing.line == 3)
        #expect(billing.allowedHosts.line == 4)
        #expect(billing.allowedRemoteUsers?.line == 5)
        #expect(billing.allowedPaths?.line == 6)
        #expect(billing.allowedCommands?.line == 7)
        #expect(billing.secretsLine == 8)
        #expect(billing.secrets.map(\.line) == [9, 10, 11])
    }

    @Test func yamlSyntaxErrorBecomesADiagnostic() {
        let errors = policyErrors("version: 1\nprofiles:\n  dev: [a\n")
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("policy.yaml:") == true)
    }

    @Test func aliasInAPolicyIsRefused() {
        #expect(
            policyErrors("version: 1\nprofiles:\n  a: &p {allowedHosts: [box]}\n  b: *p\n") == [
                "policy.yaml:3:6: error: anchor &p is not supported: anchors and aliases are refused (write values out in full)"
            ])
    }

    @Test func nonUTF8PolicyIsRefusedWithPosition() {
        do {
            _ = try PolicyLoader.parse(bytes: Array("version: 1\n# caf".utf8) + [0xE9, 0x0A], path: "policy.yaml")
            Issue.record("loaded")
        } catch {
            #expect(
                error.diagnostics.map(\.description) == [
                    "policy.yaml:2:6: error: the policy file is not valid UTF-8 (byte 0xe9 at offset 16); save it as UTF-8"
                ])
        }
    }
}
