import AgentboxCore

extension Policy {
    /// Decides a request. Pure: no I/O, no clock, no vault access.
    ///
    /// Checks run in this order and the first failure is the answer: the profile exists → its
    /// kind fits the caller (agent profiles only through agentbox, plain ones only through
    /// `secrets run`) → host → remote user → working directory → command → requested names
    /// (undeclared names first, then names of class `never`). No names requested means the
    /// profile's bundle: every secret not of class `never`.
    public func evaluate(_ request: AccessRequest) -> AccessDecision {
        guard let profile = profile(named: request.profile) else {
            return .denied(
                Denial(.unknownProfile, "denied: no profile named \(displayable(request.profile)) in \(displayName)"))
        }
        let name = profile.name
        if profile.isAgent && !request.agent {
            return .denied(
                Denial(
                    .agentProfileNeedsAgentbox,
                    "denied: profile \(name) is an agent profile (\(cite(profile.line))): start it with "
                        + "`agentbox start \(name) -- CMD`, which runs the command in a sandbox; `secrets run` cannot use it"
                ))
        }
        if !profile.isAgent && request.agent {
            return .denied(
                Denial(
                    .plainProfileNotForAgents,
                    "denied: profile \(name) is not an agent profile (\(cite(profile.line))): agentbox sessions may only "
                        + "use profiles with agent: true"))
        }

        var because: [String] = []

        // Host: trusted (from the laptop's session), compared without case.
        let host = request.host.lowercased()
        guard !host.isEmpty, let hostRule = profile.allowedHosts.rules.first(where: { $0.matches(host) }) else {
            return .denied(
                Denial(
                    .hostNotAllowed,
                    "denied: host \(displayable(request.host)) is not in allowedHosts of profile \(name) "
                        + "(\(cite(profile.allowedHosts.line)))"))
        }
        because.append("host \(displayable(host)) matches \"\(hostRule.pattern)\" (\(cite(profile.allowedHosts.line)))")

        // Remote user.
        if let problem = invalidName(request.remoteUser) {
            return .denied(Denial(.invalidRequest, "denied: remote user \(displayable(request.remoteUser)) \(problem)"))
        }
        if let users = profile.allowedRemoteUsers {
            guard let rule = users.rules.first(where: { $0.matches(request.remoteUser) }) else {
                return .denied(
                    Denial(
                        .userNotAllowed,
                        "denied: remote user \(request.remoteUser) is not in allowedRemoteUsers of profile \(name) "
                            + "(\(cite(users.line)))"))
            }
            because.append("user \(request.remoteUser) matches \"\(rule.pattern)\" (\(cite(users.line)))")
        }

        // Working directory.
        if let problem = Self.canonicalPathProblem(request.cwd) {
            return .denied(Denial(.invalidRequest, "denied: working directory \(displayable(request.cwd)) \(problem)"))
        }
        if let paths = profile.allowedPaths {
            guard let rule = paths.rules.first(where: { $0.matches(request.cwd) }) else {
                return .denied(
                    Denial(
                        .pathNotAllowed,
                        "denied: path \(displayable(request.cwd)) is not in allowedPaths of profile \(name) "
                            + "(\(cite(paths.line)))"))
            }
            because.append("path matches \"\(rule.pattern)\" (\(cite(paths.line)))")
        }

        // Command.
        guard let program = request.argv.first, !program.isEmpty else {
            return .denied(
                Denial(.emptyCommand, "denied: no command given; run `secrets run \(name) -- CMD [ARGS...]`"))
        }
        if request.argv.contains(where: { $0.utf8.contains(0) }) {
            return .denied(Denial(.invalidRequest, "denied: an argument of the command contains a NUL byte"))
        }
        if let commands = profile.allowedCommands {
            guard let rule = commands.rules.first(where: { $0.matches(request.argv) }) else {
                return .denied(
                    Denial(
                        .commandNotAllowed,
                        "denied: command \(displayableCommand(request.argv)) is not in allowedCommands of profile "
                            + "\(name) (\(cite(commands.line)))"))
            }
            because.append("command matches \"\(rule.text)\" (\(cite(commands.line)))")
        }

        // Requested names: malformed, then undeclared, then never.
        var requested: [String] = []
        for requestedName in request.requestedNames where !requested.contains(requestedName) {
            guard EnvironmentName.isValid(requestedName) else {
                return .denied(
                    Denial(
                        .invalidRequest,
                        "denied: requested secret name \(displayable(requestedName)) is not a valid environment "
                            + "variable name"))
            }
            requested.append(requestedName)
        }
        for requestedName in requested where profile.secret(named: requestedName) == nil {
            var message =
                "denied: secret \(requestedName) is not declared in profile \(name) (\(cite(profile.secretsLine)))"
            let key = EnvironmentName.collisionKey(requestedName)
            if let similar = profile.secrets.first(where: { EnvironmentName.collisionKey($0.name) == key }) {
                message += "; did you mean \(similar.name)?"
            }
            return .denied(Denial(.secretNotDeclared, message))
        }
        for requestedName in requested {
            if let spec = profile.secret(named: requestedName), spec.secretClass == .never {
                return .denied(
                    Denial(
                        .secretClassNever,
                        "denied: secret \(spec.name) of profile \(name) has class never: no remote process may "
                            + "receive it (\(cite(spec.line)))"))
            }
        }

        let delivered = profile.secrets.filter { spec in
            spec.secretClass != .never && (requested.isEmpty || requested.contains(spec.name))
        }
        var ttl = profile.ttl
        if let asked = request.requestedTTL, asked > .zero, asked < ttl { ttl = asked }
        let names = delivered.map(\.name).joined(separator: ", ")
        let rule =
            "profile \(name) (\(cite(profile.line))): " + because.joined(separator: ", ")
            + "; secrets: \(names.isEmpty ? "none" : names)"
        return .granted(
            Grant(
                profile: name, isAgent: profile.isAgent, inject: delivered.filter { $0.secretClass == .inject },
                proxy: delivered.filter { $0.secretClass == .proxy }, ttl: ttl,
                requireApproval: profile.requireApproval, approvalTimeout: profile.approvalTimeout,
                onDisconnect: profile.onDisconnect, network: profile.network, runAs: profile.runAs, rule: rule))
    }

    /// Why `path` is not an absolute canonical path (as `realpath` returns), or nil if it is.
    static func canonicalPathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "is not an absolute path" }
        if path.utf8.count > 4096 { return "is longer than PATH_MAX" }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "contains control characters"
        }
        if path == "/" { return nil }
        if path.hasSuffix("/") { return "is not canonical (trailing slash)" }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            if segment.isEmpty { return "is not canonical (empty component)" }
            if segment == "." || segment == ".." { return "is not canonical (contains \(segment))" }
        }
        return nil
    }

    /// Why a remote user name is malformed, or nil.
    private func invalidName(_ user: String) -> String? {
        if user.isEmpty { return "is empty" }
        if user.utf8.count > 256 { return "is too long" }
        if user.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0 == "/" || $0 == ":" }) {
            return "contains characters a user name cannot have"
        }
        return nil
    }
}
