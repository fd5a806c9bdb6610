import AgentboxCore
import CredentialProxy

/// The broker's answer to the proxy of one session: the path names a lease of this session and
/// one of its proxy secrets, the lease is active, and the client presented that lease's
/// placeholder (compared in constant time). The real value is read from the vault here, on
/// the first request, and kept for the lease's life.
struct BrokerProxyRouter: ProxyRouter {
    let core: BrokerCore
    let sessionId: String

    func authorize(_ target: ProxyTarget, headers: [(name: String, value: String)]) -> Result<AuthorizedRoute, ProxyRefusal> {
        let found: (LeaseRecord, GrantedProxy, SecretBytes)? = core.state.withLock {
            guard let lease = core.state.leases[target.leaseId], lease.sessionId == sessionId,
                let proxied = lease.terms.proxied.first(where: { $0.name == target.secretName }),
                let placeholder = lease.placeholders[target.secretName]
            else { return nil }
            return (lease, proxied, placeholder)
        }
        guard let (lease, proxied, placeholder) = found else {
            return .failure(ProxyRefusal(404, "unknown-route", "refused: no proxy route \(target.secretName) for lease \(target.leaseId) in this session"))
        }
        let tokens = ProxyRequestCheck.presentedTokens(headers, headerName: proxied.spec.headerName,
                                                       template: proxied.spec.headerValueTemplate)
        var matched = false
        for token in tokens {
            var bytes = Array(token.utf8)
            let presented = SecretBytes(consuming: &bytes)
            if placeholder.constantTimeEquals(presented) { matched = true }
        }
        guard matched else {
            return .failure(ProxyRefusal(401, "bad-placeholder", "refused: missing or wrong placeholder key for \(target.secretName)"))
        }
        let active = core.state.withLock { lease.state == .active && lease.expiresAt > nowSeconds() }
        guard active else {
            return .failure(ProxyRefusal(401, "lease-ended", "refused: lease \(lease.id) has ended; its placeholder is dead"))
        }
        if let cached = core.state.withLock({ lease.proxyCredentials[proxied.name] }) {
            return .success(AuthorizedRoute(spec: proxied.spec, credential: cached, placeholder: placeholder))
        }
        let credential: SecretBytes
        do {
            credential = try core.leaseService.secrets.read(reference: proxied.reference)
        } catch {
            return .failure(ProxyRefusal(502, "vault-error", "the broker cannot read \(proxied.name) from its vault: \(error)"))
        }
        let stored: SecretBytes? = core.state.withLock {
            guard lease.state == .active else { return nil }
            if let raced = lease.proxyCredentials[proxied.name] { return raced }
            lease.proxyCredentials[proxied.name] = credential
            return credential
        }
        guard let stored else {
            return .failure(ProxyRefusal(401, "lease-ended", "refused: lease \(lease.id) has ended; its placeholder is dead"))
        }
        return .success(AuthorizedRoute(spec: proxied.spec, credential: stored, placeholder: placeholder))
    }

    func record(_ entry: ProxyAuditEntry) {
        var fields: [String: AuditValue] = [
            "session": .string(sessionId), "lease": .string(entry.leaseId), "route": .string(entry.secretName),
            "method": .string(entry.method), "path": .string(entry.path), "status": .int(Int64(entry.status)),
            "bytesIn": .int(entry.bytesIn), "bytesOut": .int(entry.bytesOut), "ms": .int(entry.milliseconds),
        ]
        if let code = entry.code { fields["code"] = .string(code) }
        core.audit.record("proxy", fields)
    }
}
