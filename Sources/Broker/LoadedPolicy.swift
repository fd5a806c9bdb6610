import Policy

/// The policy file in force, as a `PolicyGate`: maps a lease context to the evaluator's request
/// and its decision to the broker's verdict.
struct LoadedPolicy: PolicyGate {
    let policy: Policy

    func decide(_ context: LeaseContext) -> PolicyVerdict {
        let request = AccessRequest(
            host: context.host, remoteUser: context.request.remoteUser, profile: context.request.profile,
            cwd: context.request.cwd, argv: context.request.argv, requestedNames: context.request.requestedNames,
            agent: context.request.agent, requestedTTL: context.request.requestedTTLSeconds.map { .seconds($0) })
        switch policy.evaluate(request) {
        case .denied(let denial):
            return .deny(code: denial.reason.rawValue, message: denial.message)
        case .granted(let grant):
            return .grant(GrantTerms(
                profile: grant.profile,
                injected: grant.inject.map { GrantedSecret(name: $0.name, reference: $0.reference.text) },
                ttlSeconds: grant.ttl.components.seconds,
                requireApproval: grant.requireApproval,
                approvalTimeoutSeconds: grant.approvalTimeout.components.seconds,
                onDisconnect: Self.wireForm(grant.onDisconnect),
                rule: grant.rule,
                proxied: grant.proxy.compactMap { spec in
                    spec.proxy.map { GrantedProxy(name: spec.name, reference: spec.reference.text, spec: $0) }
                },
                network: grant.network?.rawValue, runAs: grant.runAs))
        }
    }

    static func wireForm(_ behavior: DisconnectBehavior) -> String {
        switch behavior {
        case .continue: return "continue"
        case .kill: return "kill"
        case .grace(let duration): return "grace \(duration.components.seconds)"
        }
    }
}
