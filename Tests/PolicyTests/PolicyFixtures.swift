import Testing

@testable import Policy

/// Parses policy text as if it were the file `policy.yaml`.
func parsePolicy(_ text: String) throws(PolicyError) -> Policy {
    try PolicyLoader.parse(bytes: Array(text.utf8), path: "policy.yaml")
}

/// The error lines (`file:line:column: error: message`) of a policy that must not load.
func policyErrors(_ text: String) -> [String] {
    do {
        _ = try parsePolicy(text)
        Issue.record("the policy loaded but should not have")
        return []
    } catch {
        return error.diagnostics.map(\.description)
    }
}

/// A realistic policy whose line numbers the evaluator tests cite.
let samplePolicy = """
    version: 1
    profiles:
      billing-dev:
        allowedHosts: [remote-devbox-1]
        allowedRemoteUsers: [alex]
        allowedPaths: [/home/alex/work/billing/**]
        allowedCommands: ["./gradlew bootRun", "pnpm dev", "npm test", "./gradlew test --tests *"]
        secrets:
          DB_URL: op://Engineering/Billing Dev DB/url
          DB_PASSWORD: pass://billing/db-password
          PROD_KEY: { from: "pass://billing/prod", class: never }
        ttl: 4h
        requireApproval: true
      github-agent:
        agent: true
        allowedHosts: [remote-devbox-1, "*.corp.example"]
        allowedCommands: ["codex", "codex *"]
        ttl: 1h
        network: proxy-only
        secrets:
          GITHUB_TOKEN: { from: "pass://github/repo-limited", class: inject }
          OPENAI_API_KEY:
            from: pass://openai/api-key
            class: proxy
            proxy:
              upstream: https://api.openai.com/v1
              baseUrlEnv: OPENAI_BASE_URL
              header: "Authorization: Bearer {secret}"
              allow: ["POST /responses", "POST /chat/completions", "GET /models"]
          OP_SERVICE_ACCOUNT_TOKEN: { from: "op://Private/op-sa/credential", class: never }
      open-dev:
        allowedHosts: ["*"]
        secrets:
          TOKEN: file:///home/alex/.tokens/dev
    """

func billingRequest(
    host: String = "remote-devbox-1", user: String = "alex", profile: String = "billing-dev",
    cwd: String = "/home/alex/work/billing", argv: [String] = ["npm", "test"], names: [String] = [],
    agent: Bool = false
) -> AccessRequest {
    AccessRequest(
        host: host, remoteUser: user, profile: profile, cwd: cwd, argv: argv, requestedNames: names, agent: agent)
}
