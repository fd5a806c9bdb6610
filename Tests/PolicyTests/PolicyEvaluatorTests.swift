import Testing

@testable import Policy

@Suite struct PolicyEvaluatorTests {
    let policy: Policy

    init() throws {
        policy = try parsePolicy(samplePolicy)
    }

    private func denial(_ request: AccessRequest) throws -> Denial {
        try #require(policy.evaluate(request).denial)
    }

    @Test func grantsTheBundleWithoutNeverSecretsInProfileOrder() throws {
        let grant = try #require(policy.evaluate(billingRequest()).grant)
        #expect(grant.profile == "billing-dev")
        #expect(grant.inject.map(\.name) == ["DB_URL", "DB_PASSWORD"])
        #expect(grant.proxy.isEmpty)
        #expect(grant.ttl == .seconds(4 * 3600))
        #expect(grant.requireApproval)
        #expect(grant.approvalTimeout == .seconds(120))
        #expect(grant.onDisconnect == .continue)
        #expect(grant.network == nil)
        #expect(grant.rule.contains("profile billing-dev (policy.yaml:3)"))
        #expect(grant.rule.contains("command matches \"npm test\" (policy.yaml:7)"))
        #expect(grant.rule.contains("path matches \"/home/alex/work/billing/**\" (policy.yaml:6)"))
    }

    @Test func grantsOnlyTheRequestedNames() throws {
        let grant = try #require(policy.evaluate(billingRequest(names: ["DB_PASSWORD", "DB_PASSWORD"])).grant)
        #expect(grant.inject.map(\.name) == ["DB_PASSWORD"])
    }

    @Test func agentGrantSplitsInjectAndProxyAndAppliesAgentDefaults() throws {
        let request = AccessRequest(
            host: "remote-devbox-1", remoteUser: "alex", profile: "github-agent", cwd: "/home/alex/work/x",
            argv: ["codex", "exec", "fix the bug"], agent: true)
        let grant = try #require(policy.evaluate(request).grant)
        #expect(grant.inject.map(\.name) == ["GITHUB_TOKEN"])
        #expect(grant.proxy.map(\.name) == ["OPENAI_API_KEY"])
        #expect(grant.proxy.first?.proxy?.baseUrlEnv == "OPENAI_BASE_URL")
        #expect(grant.requireApproval)
        #expect(grant.onDisconnect == .kill)
        #expect(grant.network == .proxyOnly)
        #expect(grant.isAgent)
    }

    @Test func unknownProfileIsDenied() throws {
        let result = try denial(billingRequest(profile: "prod"))
        #expect(result.reason == .unknownProfile)
        #expect(result.message == "denied: no profile named prod in policy.yaml")
    }

    @Test func agentProfileThroughPlainSecretsRunIsSentToAgentbox() throws {
        let result = try denial(billingRequest(profile: "github-agent", argv: ["codex"]))
        #expect(result.reason == .agentProfileNeedsAgentbox)
        #expect(result.message.hasPrefix("denied: profile github-agent is an agent profile (policy.yaml:14)"))
        #expect(result.message.contains("agentbox start github-agent"))
    }

    @Test func agentSessionCannotBorrowAPlainProfile() throws {
        let result = try denial(billingRequest(agent: true))
        #expect(result.reason == .plainProfileNotForAgents)
        #expect(result.message.hasPrefix("denied: profile billing-dev is not an agent profile (policy.yaml:3)"))
    }

    @Test func otherHostIsDenied() throws {
        let result = try denial(billingRequest(host: "remote-devbox-2"))
        #expect(result.reason == .hostNotAllowed)
        #expect(
            result.message
                == "denied: host remote-devbox-2 is not in allowedHosts of profile billing-dev (policy.yaml:4)")
    }

    @Test func hostComparisonIgnoresCaseButNotSubdomainDepth() throws {
        #expect(policy.evaluate(billingRequest(host: "Remote-DevBox-1")).grant != nil)
        let agent = AccessRequest(
            host: "a.b.corp.example", remoteUser: "alex", profile: "github-agent", cwd: "/", argv: ["codex"],
            agent: true)
        #expect(policy.evaluate(agent).denial?.reason == .hostNotAllowed)
        var one = agent
        one.host = "box7.corp.example"
        #expect(policy.evaluate(one).grant != nil)
    }

    @Test func emptyHostIsDenied() throws {
        #expect(try denial(billingRequest(host: "")).reason == .hostNotAllowed)
    }

    @Test func otherRemoteUserIsDenied() throws {
        let result = try denial(billingRequest(user: "mallory"))
        #expect(result.reason == .userNotAllowed)
        #expect(
            result.message
                == "denied: remote user mallory is not in allowedRemoteUsers of profile billing-dev (policy.yaml:5)")
    }

    @Test func pathOutsideAllowedPathsIsDenied() throws {
        let result = try denial(billingRequest(cwd: "/home/alex/other"))
        #expect(result.reason == .pathNotAllowed)
        #expect(
            result.message
                == "denied: path /home/alex/other is not in allowedPaths of profile billing-dev (policy.yaml:6)")
    }

    @Test func siblingDirectoryDoesNotMatchRecursivePathPattern() throws {
        #expect(try denial(billingRequest(cwd: "/home/alex/work/billing2")).reason == .pathNotAllowed)
        #expect(policy.evaluate(billingRequest(cwd: "/home/alex/work/billing/api/src")).grant != nil)
    }

    @Test(arguments: [
        "/home/alex/work/billing/../other", "/home/alex/work/billing/..", "/home/alex/work/billing/./x",
        "home/alex/work/billing", "", "/home/alex/work/billing/", "/home/alex/work//billing",
        "/home/alex/work/billing\n",
    ])
    func nonCanonicalWorkingDirectoryCannotSneakPastPathPattern(cwd: String) throws {
        let result = try denial(billingRequest(cwd: cwd))
        #expect(result.reason == .invalidRequest)
        #expect(result.message.hasPrefix("denied: working directory "))
    }

    @Test func extraArgumentsDoNotMatchAnExactCommand() throws {
        let result = try denial(billingRequest(argv: ["npm", "test", "--watch"]))
        #expect(result.reason == .commandNotAllowed)
        #expect(
            result.message
                == "denied: command npm test --watch is not in allowedCommands of profile billing-dev (policy.yaml:7)")
    }

    @Test func deniedCommandIsShownQuotedSoSpacesAreVisible() throws {
        let result = try denial(billingRequest(argv: ["npm test", "; rm -rf /"]))
        #expect(
            result.message
                == "denied: command 'npm test' '; rm -rf /' is not in allowedCommands of profile billing-dev (policy.yaml:7)"
        )
    }

    @Test func emptyCommandIsDenied() throws {
        #expect(try denial(billingRequest(argv: [])).reason == .emptyCommand)
        #expect(try denial(billingRequest(argv: [""])).reason == .emptyCommand)
        #expect(try denial(billingRequest(argv: [])).message.hasPrefix("denied: no command given"))
    }

    @Test func nulByteInArgvIsDeniedNotTruncated() throws {
        #expect(try denial(billingRequest(argv: ["npm", "test\0--inspect"])).reason == .invalidRequest)
    }

    @Test func undeclaredSecretIsDenied() throws {
        let result = try denial(billingRequest(names: ["AWS_SECRET_ACCESS_KEY"]))
        #expect(result.reason == .secretNotDeclared)
        #expect(
            result.message
                == "denied: secret AWS_SECRET_ACCESS_KEY is not declared in profile billing-dev (policy.yaml:8)")
    }

    @Test func caseVariantOfADeclaredNameIsNotGrantedButSuggested() throws {
        let result = try denial(billingRequest(names: ["db_url"]))
        #expect(result.reason == .secretNotDeclared)
        #expect(result.message.hasSuffix("; did you mean DB_URL?"))
    }

    @Test func neverSecretIsRefusedByName() throws {
        let request = AccessRequest(
            host: "remote-devbox-1", remoteUser: "alex", profile: "github-agent", cwd: "/home/alex",
            argv: ["codex"], requestedNames: ["OP_SERVICE_ACCOUNT_TOKEN"], agent: true)
        let result = try denial(request)
        #expect(result.reason == .secretClassNever)
        #expect(
            result.message
                == "denied: secret OP_SERVICE_ACCOUNT_TOKEN of profile github-agent has class never: no remote process may receive it (policy.yaml:30)"
        )
    }

    @Test func undeclaredNameIsReportedBeforeNeverName() throws {
        let result = try denial(billingRequest(names: ["PROD_KEY", "NOPE"]))
        #expect(result.reason == .secretNotDeclared)
        #expect(try denial(billingRequest(names: ["PROD_KEY", "DB_URL"])).reason == .secretClassNever)
    }

    @Test(arguments: ["DB-URL", "", "1X", "A B", "X\u{1b}[31m"])
    func malformedRequestedNameIsDenied(name: String) throws {
        #expect(try denial(billingRequest(names: [name])).reason == .invalidRequest)
    }

    @Test func checksRunInTheDocumentedOrder() throws {
        // Wrong host, user, path and command at once: the host is reported.
        let all = billingRequest(host: "evil", user: "mallory", cwd: "/tmp", argv: ["sh"], names: ["NOPE"])
        #expect(try denial(all).reason == .hostNotAllowed)
        #expect(try denial(billingRequest(user: "mallory", cwd: "/tmp", argv: ["sh"])).reason == .userNotAllowed)
        #expect(try denial(billingRequest(cwd: "/tmp", argv: ["sh"], names: ["NOPE"])).reason == .pathNotAllowed)
        #expect(try denial(billingRequest(argv: ["sh"], names: ["NOPE"])).reason == .commandNotAllowed)
    }

    @Test func requestedTTLShortensButNeverLengthensTheLease() throws {
        var request = billingRequest()
        request.requestedTTL = .seconds(600)
        #expect(policy.evaluate(request).grant?.ttl == .seconds(600))
        request.requestedTTL = .seconds(100 * 3600)
        #expect(policy.evaluate(request).grant?.ttl == .seconds(4 * 3600))
    }

    @Test func terminalEscapesFromTheRemoteAreNeutralisedInMessages() throws {
        let result = try denial(billingRequest(profile: "x\u{1b}]0;pwned\u{07}"))
        #expect(!result.message.contains("\u{1b}"))
        #expect(result.message.contains("\\u{1b}"))
        let path = try denial(billingRequest(cwd: "/home/alex/\u{1b}[2J"))
        #expect(!path.message.contains("\u{1b}"))
    }

    @Test func unrestrictedProfileStillRequiresCanonicalCwdAndACommand() throws {
        let open = AccessRequest(host: "anything", remoteUser: "bob", profile: "open-dev", cwd: "/srv", argv: ["make"])
        #expect(policy.evaluate(open).grant?.inject.map(\.name) == ["TOKEN"])
        var relative = open
        relative.cwd = "srv"
        #expect(policy.evaluate(relative).denial?.reason == .invalidRequest)
        var noCommand = open
        noCommand.argv = []
        #expect(policy.evaluate(noCommand).denial?.reason == .emptyCommand)
    }
}
