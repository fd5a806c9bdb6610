import AgentboxCore
import YAMLDocument

/// Walks the YAML tree of a policy, building the model and collecting every problem on the way.
struct PolicyReader {
    let fileName: String
    private(set) var diagnostics: [PolicyDiagnostic] = []

    static let topLevelKeys = ["version", "profiles"]
    static let profileKeys = [
        "agent", "allowedHosts", "allowedRemoteUsers", "allowedPaths", "allowedCommands", "secrets", "ttl",
        "requireApproval", "approvalTimeout", "network", "onDisconnect", "runAs",
    ]
    static let agentOnlyKeys = ["network", "runAs"]
    static let secretKeys = ["from", "class", "proxy"]
    static let proxyKeys = ["upstream", "baseUrlEnv", "header", "allow", "maxBodyBytes", "allowPrivateUpstream"]

    static let defaultTTL = Duration.seconds(3600)
    static let defaultApprovalTimeout = Duration.seconds(120)

    init(fileName: String) {
        self.fileName = fileName
    }

    // MARK: Diagnostics

    mutating func error(_ mark: SourceMark, _ message: String) {
        diagnostics.append(PolicyDiagnostic(.error, fileName: fileName, mark: mark, message: message))
    }

    mutating func warning(_ mark: SourceMark, _ message: String) {
        diagnostics.append(PolicyDiagnostic(.warning, fileName: fileName, mark: mark, message: message))
    }

    func sorted(_ list: [PolicyDiagnostic]) -> [PolicyDiagnostic] {
        list.enumerated().sorted { ($0.element.mark, $0.offset) < ($1.element.mark, $1.offset) }.map(\.element)
    }

    // MARK: Document

    mutating func read(_ root: YAMLNode) -> Policy? {
        guard let top = fields(root, known: Self.topLevelKeys, context: "the policy") else { return nil }
        var version: Int?
        if let pair = top["version"] {
            if pair.value.kind == .scalar("1", .plain) {
                version = 1
            } else {
                error(
                    pair.value.mark,
                    "unsupported policy version \(displayable(pair.value.scalarText ?? pair.value.kindDescription)); "
                        + "this broker reads version: 1")
            }
        } else {
            error(root.mark, "missing required key version; add `version: 1` at the top of the file")
        }
        var profiles: [Profile] = []
        if let pair = top["profiles"] {
            if case .mapping(let entries) = pair.value.kind {
                var seen: [String: SourceMark] = [:]
                for entry in entries {
                    guard let name = keyName(entry.key, context: "profiles") else { continue }
                    if let first = seen[name] {
                        error(
                            entry.key.mark,
                            "duplicate profile \(displayable(name)) (first defined at line \(first.line)); "
                                + "merge them or rename one")
                        continue
                    }
                    seen[name] = entry.key.mark
                    if let profile = readProfile(name: name, nameMark: entry.key.mark, node: entry.value) {
                        profiles.append(profile)
                    }
                }
                if entries.isEmpty { warning(pair.value.mark, "the policy has no profiles: every request is denied") }
            } else {
                error(
                    pair.value.mark,
                    "profiles must be a mapping of profile names to profiles, got \(pair.value.kindDescription)")
            }
        } else {
            error(root.mark, "missing required key profiles; add `profiles:` with at least one profile")
        }
        guard let version, !diagnostics.contains(where: { $0.severity == .error }) else { return nil }
        let warnings = sorted(diagnostics.filter { $0.severity == .warning })
        return Policy(version: version, path: fileName, profiles: profiles, warnings: warnings)
    }

    // MARK: Profile

    private mutating func readProfile(name: String, nameMark: SourceMark, node: YAMLNode) -> Profile? {
        if !Self.isProfileName(name) {
            error(
                nameMark,
                "invalid profile name \(displayable(name)); use lowercase letters, digits, '.', '_' and '-', "
                    + "starting with a letter or digit (e.g. billing-dev)")
        }
        let context = "profile \(displayable(name))"
        guard let keys = fields(node, known: Self.profileKeys, context: context) else { return nil }

        let isAgent = keys["agent"].flatMap { bool($0.value, "agent of \(context)") } ?? false
        if !isAgent {
            for key in Self.agentOnlyKeys {
                if let pair = keys[key] {
                    error(
                        pair.key.mark,
                        "\(key) applies only to agent profiles; remove it from \(context) or add `agent: true`")
                }
            }
        }

        // Hosts: required.
        var hosts = RuleList<GlobPattern>([], line: nameMark.line)
        if let pair = keys["allowedHosts"] {
            let entries = stringList(pair.value, "allowedHosts of \(context)") ?? []
            var rules: [GlobPattern] = []
            for (text, mark) in entries {
                if Self.isHostPattern(text) {
                    rules.append(.host(text.lowercased()))
                } else {
                    error(
                        mark,
                        "invalid host pattern \(displayable(text)) in allowedHosts of \(context); use a host name "
                            + "with optional * and ? (e.g. remote-devbox-1, *.corp.example, or \"*\" for any host)")
                }
            }
            hosts = RuleList(rules, line: pair.key.mark.line)
            if entries.isEmpty {
                warning(pair.value.mark, "allowedHosts of \(context) is empty: the profile can never be used")
            }
        } else {
            error(
                nameMark,
                "\(context) is missing required key allowedHosts; list the hosts it may be used from, e.g. "
                    + "allowedHosts: [remote-devbox-1], or [\"*\"] for any host")
        }

        // Users: optional.
        var users: RuleList<GlobPattern>?
        if let pair = keys["allowedRemoteUsers"] {
            var rules: [GlobPattern] = []
            for (text, mark) in stringList(pair.value, "allowedRemoteUsers of \(context)") ?? [] {
                if Self.isUserPattern(text) {
                    rules.append(.single(text))
                } else {
                    error(mark, "invalid user name or pattern \(displayable(text)) in allowedRemoteUsers of \(context)")
                }
            }
            users = RuleList(rules, line: pair.key.mark.line)
        } else {
            warning(nameMark, "\(context) has no allowedRemoteUsers: any remote user may use it")
        }

        // Paths: optional, absolute.
        var paths: RuleList<GlobPattern>?
        if let pair = keys["allowedPaths"] {
            var rules: [GlobPattern] = []
            for (text, mark) in stringList(pair.value, "allowedPaths of \(context)") ?? [] {
                if let problem = Self.pathPatternProblem(text) {
                    error(mark, "path pattern \(displayable(text)) in allowedPaths of \(context) \(problem)")
                } else {
                    rules.append(.path(text))
                }
            }
            paths = RuleList(rules, line: pair.key.mark.line)
        } else {
            warning(nameMark, "\(context) has no allowedPaths: it may be used from any directory")
        }

        // Commands: optional for plain profiles, required for agents.
        var commands: RuleList<CommandPattern>?
        if let pair = keys["allowedCommands"] {
            var rules: [CommandPattern] = []
            for (text, mark) in stringList(pair.value, "allowedCommands of \(context)") ?? [] {
                do {
                    rules.append(try CommandPattern.parse(text))
                } catch {
                    let problem: String
                    switch error {
                    case .empty: problem = "is empty"
                    case .unterminatedQuote(let quote): problem = "has an unterminated \(quote) quote"
                    case .controlCharacter: problem = "contains control characters"
                    }
                    self.error(mark, "command pattern \(displayable(text)) in allowedCommands of \(context) \(problem)")
                }
            }
            commands = RuleList(rules, line: pair.key.mark.line)
        } else if isAgent {
            error(
                nameMark,
                "\(context) is missing required key allowedCommands: agent profiles must list the commands they "
                    + "may run, e.g. allowedCommands: [\"codex\", \"codex *\"]")
        } else {
            warning(nameMark, "\(context) has no allowedCommands: it may be used to run any command")
        }

        // Secrets.
        var secrets: [SecretSpec] = []
        var secretsLine = nameMark.line
        if let pair = keys["secrets"] {
            secretsLine = pair.key.mark.line
            secrets = readSecrets(pair.value, context: context)
        }

        let ttl = keys["ttl"].flatMap { duration($0.value, "ttl of \(context)") } ?? Self.defaultTTL
        let approvalTimeout =
            keys["approvalTimeout"].flatMap { duration($0.value, "approvalTimeout of \(context)") }
            ?? Self.defaultApprovalTimeout
        let requireApproval =
            keys["requireApproval"].flatMap { bool($0.value, "requireApproval of \(context)") } ?? isAgent

        var network: NetworkMode? = isAgent ? .proxyOnly : nil
        if isAgent, let pair = keys["network"], let text = string(pair.value, "network of \(context)") {
            if let mode = NetworkMode(rawValue: text) {
                network = mode
            } else {
                error(
                    pair.value.mark, "network of \(context) must be host, proxy-only or none, got \(displayable(text))")
            }
        }

        var onDisconnect: DisconnectBehavior = isAgent ? .kill : .continue
        if let pair = keys["onDisconnect"], let text = string(pair.value, "onDisconnect of \(context)") {
            if let behavior = parseDisconnect(text, mark: pair.value.mark, context: context) { onDisconnect = behavior }
        }

        var runAs: String?
        if isAgent, let pair = keys["runAs"], let text = string(pair.value, "runAs of \(context)") {
            if text == "root" {
                error(pair.value.mark, "runAs of \(context) must not be root: name a separate, unprivileged account")
            } else if !Self.isUnixUserName(text) {
                error(pair.value.mark, "runAs of \(context) is not a valid Unix user name: \(displayable(text))")
            } else {
                runAs = text
            }
        }

        return Profile(
            name: name, line: nameMark.line, isAgent: isAgent, allowedHosts: hosts, allowedRemoteUsers: users,
            allowedPaths: paths, allowedCommands: commands, secrets: secrets, secretsLine: secretsLine, ttl: ttl,
            requireApproval: requireApproval, approvalTimeout: approvalTimeout, network: network,
            onDisconnect: onDisconnect, runAs: runAs)
    }

    private mutating func parseDisconnect(_ text: String, mark: SourceMark, context: String) -> DisconnectBehavior? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if words == ["continue"] { return .continue }
        if words == ["kill"] { return .kill }
        if words.count == 2 && words[0] == "grace" {
            do {
                return .grace(try DurationText.parse(String(words[1])))
            } catch {
                self.error(mark, "onDisconnect of \(context): bad grace duration: \(error)")
                return nil
            }
        }
        error(
            mark,
            "onDisconnect of \(context) must be continue, kill or \"grace DURATION\" (e.g. grace 5m), got \(displayable(text))"
        )
        return nil
    }

    // MARK: Secrets

    private mutating func readSecrets(_ node: YAMLNode, context: String) -> [SecretSpec] {
        guard case .mapping(let entries) = node.kind else {
            error(node.mark, "secrets of \(context) must be a mapping of NAME: reference, got \(node.kindDescription)")
            return []
        }
        var specs: [SecretSpec] = []
        var seen: [String: SourceMark] = [:]
        // Collision key → (what, line) for every environment variable the profile would set.
        var variables: [String: (what: String, line: Int)] = [:]
        for entry in entries {
            guard let name = keyName(entry.key, context: "secrets of \(context)") else { continue }
            if let first = seen[name] {
                error(
                    entry.key.mark,
                    "duplicate secret \(displayable(name)) in \(context) (first at line \(first.line)); keep one")
                continue
            }
            seen[name] = entry.key.mark
            guard EnvironmentName.isValid(name) else {
                var message =
                    "secret name \(displayable(name)) in \(context) is not a valid environment variable name "
                    + "(letters, digits and _, not starting with a digit)"
                let fixed = EnvironmentName.collisionKey(name)
                if EnvironmentName.isValid(fixed) { message += "; did you mean \(fixed)?" }
                error(entry.key.mark, message)
                continue
            }
            claim(variable: name, what: "secret \(name)", mark: entry.key.mark, in: &variables, context: context)
            let secretContext = "secret \(name) of \(context)"
            switch entry.value.kind {
            case .scalar:
                if let text = string(entry.value, secretContext),
                    let reference = parseReference(text, mark: entry.value.mark, context: secretContext)
                {
                    specs.append(
                        SecretSpec(
                            name: name, reference: reference, secretClass: .inject, proxy: nil,
                            line: entry.key.mark.line))
                }
            case .mapping:
                guard let keys = fields(entry.value, known: Self.secretKeys, context: secretContext) else { continue }
                var reference: SecretReference?
                if let pair = keys["from"] {
                    if let text = string(pair.value, "from of \(secretContext)") {
                        reference = parseReference(text, mark: pair.value.mark, context: secretContext)
                    }
                } else {
                    error(
                        entry.value.mark,
                        "\(secretContext) is missing required key from (the vault reference, e.g. from: pass://github/token)"
                    )
                }
                var secretClass: SecretClass? = .inject
                if let pair = keys["class"], let text = string(pair.value, "class of \(secretContext)") {
                    secretClass = SecretClass(rawValue: text)
                    if secretClass == nil {
                        error(
                            pair.value.mark,
                            "class of \(secretContext) must be inject, proxy or never, got \(displayable(text))")
                    }
                }
                var proxy: ProxySpec?
                if let pair = keys["proxy"] {
                    if secretClass == .proxy {
                        proxy = readProxy(pair, context: secretContext, variables: &variables, profileContext: context)
                    } else if let secretClass {
                        error(
                            pair.key.mark,
                            "proxy settings are only for class proxy, but \(secretContext) has class \(secretClass.rawValue); set class: proxy or remove proxy"
                        )
                    }
                } else if secretClass == .proxy {
                    error(
                        entry.value.mark,
                        "\(secretContext) has class proxy but no proxy settings; add proxy: {upstream, baseUrlEnv, header, allow}"
                    )
                }
                if let reference, let secretClass, secretClass != .proxy || proxy != nil {
                    specs.append(
                        SecretSpec(
                            name: name, reference: reference, secretClass: secretClass, proxy: proxy,
                            line: entry.key.mark.line))
                }
            case .sequence:
                error(
                    entry.value.mark,
                    "\(secretContext) must be a reference string or a mapping {from, class, proxy}, got a list")
            }
        }
        return specs
    }

    private mutating func claim(
        variable: String, what: String, mark: SourceMark, in variables: inout [String: (what: String, line: Int)],
        context: String
    ) {
        let key = EnvironmentName.collisionKey(variable)
        if let earlier = variables[key] {
            error(
                mark,
                "\(what) collides with \(earlier.what) (line \(earlier.line)) in \(context): both are the environment "
                    + "variable \(key) up to case and '-'; rename one")
        } else {
            variables[key] = (what, mark.line)
        }
    }

    private mutating func parseReference(_ text: String, mark: SourceMark, context: String) -> SecretReference? {
        do {
            return try SecretReference.parse(text)
        } catch {
            let known = SecretReference.knownSchemes.joined(separator: ", ")
            switch error {
            case .notAURI:
                self.error(
                    mark,
                    "reference of \(context) is not a URI; write scheme://location, e.g. pass://billing/db-password")
            case .unknownScheme(let scheme):
                var message = "unknown reference scheme \(displayable(scheme)):// in \(context)"
                if let suggestion = closest(to: scheme, in: SecretReference.knownSchemes) {
                    message += "; did you mean \(suggestion)://?"
                }
                self.error(mark, message + " (known: \(known))")
            case .emptyLocation:
                self.error(mark, "reference of \(context) names no location after \(displayable(text))")
            case .controlCharacter:
                self.error(mark, "reference of \(context) contains control characters")
            }
            return nil
        }
    }

    // MARK: Proxy

    private mutating func readProxy(
        _ pair: YAMLPair, context: String, variables: inout [String: (what: String, line: Int)], profileContext: String
    ) -> ProxySpec? {
        let proxyContext = "proxy of \(context)"
        guard let keys = fields(pair.value, known: Self.proxyKeys, context: proxyContext) else { return nil }
        var complete = true
        func require(_ key: String, _ example: String) -> YAMLPair? {
            if let found = keys[key] { return found }
            complete = false
            error(pair.value.mark, "\(proxyContext) is missing required key \(key) (e.g. \(key): \(example))")
            return nil
        }
        var upstream: UpstreamURL?
        if let entry = require("upstream", "https://api.openai.com/v1"),
            let text = string(entry.value, "upstream of \(proxyContext)")
        {
            do {
                upstream = try UpstreamURL.parse(text)
            } catch {
                switch error {
                case .notHTTPS:
                    self.error(
                        entry.value.mark,
                        "upstream \(displayable(text)) of \(proxyContext) must use https (plain http is allowed only for loopback hosts)"
                    )
                case .malformed(let problem):
                    self.error(entry.value.mark, "upstream \(displayable(text)) of \(proxyContext) \(problem)")
                }
            }
        }
        var baseUrlEnv: String?
        if let entry = require("baseUrlEnv", "OPENAI_BASE_URL"),
            let text = string(entry.value, "baseUrlEnv of \(proxyContext)")
        {
            if EnvironmentName.isValid(text) {
                baseUrlEnv = text
                claim(
                    variable: text, what: "baseUrlEnv \(text) of \(context)", mark: entry.value.mark, in: &variables,
                    context: profileContext)
            } else {
                error(
                    entry.value.mark,
                    "baseUrlEnv \(displayable(text)) of \(proxyContext) is not a valid environment variable name")
            }
        }
        var header: (name: String, template: String)?
        if let entry = require("header", "\"Authorization: Bearer {secret}\""),
            let text = string(entry.value, "header of \(proxyContext)")
        {
            header = parseHeader(text, mark: entry.value.mark, context: proxyContext)
        }
        var rules: [ProxyRule] = []
        var rulesValid = true
        if let entry = require("allow", "[\"POST /responses\"]"),
            let entries = stringList(entry.value, "allow of \(proxyContext)")
        {
            if entries.isEmpty {
                rulesValid = false
                error(
                    entry.value.mark,
                    "allow of \(proxyContext) is empty; list the requests the proxy may forward, e.g. [\"POST /responses\"]"
                )
            }
            for (text, mark) in entries {
                let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                let methodOK =
                    words.count == 2
                    && (words[0] == "*" || (!words[0].isEmpty && words[0].allSatisfy { $0.isASCII && $0.isUppercase }))
                if words.count == 2, methodOK, words[1].hasPrefix("/") {
                    rules.append(ProxyRule(method: words[0], path: .path(words[1])))
                } else {
                    rulesValid = false
                    error(
                        mark,
                        "allow entry \(displayable(text)) of \(proxyContext) must be \"METHOD /path\", e.g. \"POST /chat/completions\" or \"GET /models/*\""
                    )
                }
            }
        }
        var maxBodyBytes = ProxySpec.defaultMaxBodyBytes
        if let entry = keys["maxBodyBytes"] {
            if let value = positiveInt(entry.value, "maxBodyBytes of \(proxyContext)") { maxBodyBytes = value }
        }
        var allowPrivate = false
        if let entry = keys["allowPrivateUpstream"] {
            allowPrivate = bool(entry.value, "allowPrivateUpstream of \(proxyContext)") ?? false
        }
        guard complete, rulesValid, let upstream, let baseUrlEnv, let header else { return nil }
        return ProxySpec(
            upstream: upstream, baseUrlEnv: baseUrlEnv, headerName: header.name, headerValueTemplate: header.template,
            allow: rules, maxBodyBytes: maxBodyBytes, allowPrivateUpstream: allowPrivate, line: pair.key.mark.line)
    }

    private mutating func parseHeader(_ text: String, mark: SourceMark, context: String) -> (
        name: String, template: String
    )? {
        if text.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            error(mark, "header of \(context) contains control characters (a line break would inject another header)")
            return nil
        }
        guard let colon = text.firstIndex(of: ":") else {
            error(
                mark,
                "header of \(context) must be \"Name: value with {secret}\", e.g. \"Authorization: Bearer {secret}\"")
            return nil
        }
        let name = String(text[..<colon])
        let value = String(text[text.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" }))
        guard ProxySpec.isToken(name) else {
            error(mark, "header name \(displayable(name)) of \(context) is not a valid HTTP header name")
            return nil
        }
        let placeholders = text.ranges(of: "{secret}").count
        guard placeholders == 1, value.ranges(of: "{secret}").count == 1 else {
            error(mark, "header of \(context) must contain {secret} exactly once, in the value (found \(placeholders))")
            return nil
        }
        return (name, value)
    }

    // MARK: Typed values

    /// The known keys of a mapping (first occurrence each), reporting non-scalar, unknown and
    /// duplicate keys. Nil if the node is not a mapping.
    private mutating func fields(_ node: YAMLNode, known: [String], context: String) -> [String: YAMLPair]? {
        guard case .mapping(let pairs) = node.kind else {
            error(node.mark, "\(context) must be a mapping, got \(node.kindDescription)")
            return nil
        }
        var result: [String: YAMLPair] = [:]
        var seen: [String: SourceMark] = [:]
        for pair in pairs {
            guard let key = keyName(pair.key, context: context) else { continue }
            if let first = seen[key] {
                error(
                    pair.key.mark,
                    "duplicate key \(displayable(key)) in \(context) (first at line \(first.line)); keep one")
                continue
            }
            seen[key] = pair.key.mark
            guard known.contains(key) else {
                var message = "unknown key \(displayable(key)) in \(context)"
                if let suggestion = closest(to: key, in: known) {
                    message += "; did you mean \(suggestion)?"
                } else {
                    message += "; known keys: " + known.joined(separator: ", ")
                }
                error(pair.key.mark, message)
                continue
            }
            result[key] = pair
        }
        return result
    }

    private mutating func keyName(_ node: YAMLNode, context: String) -> String? {
        guard case .scalar(let text, _) = node.kind, !node.isNull else {
            error(node.mark, "keys in \(context) must be names, got \(node.kindDescription)")
            return nil
        }
        return text
    }

    private mutating func string(_ node: YAMLNode, _ what: String) -> String? {
        guard case .scalar(let text, _) = node.kind, !node.isNull, !text.isEmpty else {
            error(node.mark, "\(what) must be a string, got \(node.kindDescription)")
            return nil
        }
        return text
    }

    private mutating func bool(_ node: YAMLNode, _ what: String) -> Bool? {
        switch node.kind {
        case .scalar("true", .plain): return true
        case .scalar("false", .plain): return false
        case .scalar(let text, let style):
            var message = "\(what) must be true or false, got \(node.kindDescription)"
            if style == .quoted {
                message += " (remove the quotes)"
            } else if ["yes", "no", "on", "off", "y", "n", "True", "False", "TRUE", "FALSE"].contains(text) {
                message += " \(text) (write true or false)"
            }
            error(node.mark, message)
        default:
            error(node.mark, "\(what) must be true or false, got \(node.kindDescription)")
        }
        return nil
    }

    private mutating func positiveInt(_ node: YAMLNode, _ what: String) -> Int? {
        if case .scalar(let text, .plain) = node.kind, text.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int(text), value > 0
        {
            return value
        }
        error(node.mark, "\(what) must be a positive whole number of bytes, got \(node.kindDescription)")
        return nil
    }

    private mutating func duration(_ node: YAMLNode, _ what: String) -> Duration? {
        guard let text = string(node, what) else { return nil }
        do {
            return try DurationText.parse(text)
        } catch {
            self.error(node.mark, "bad duration for \(what): \(error)")
            return nil
        }
    }

    private mutating func stringList(_ node: YAMLNode, _ what: String) -> [(String, SourceMark)]? {
        guard case .sequence(let items) = node.kind else {
            error(node.mark, "\(what) must be a list, got \(node.kindDescription); write e.g. [\"value\"]")
            return nil
        }
        var result: [(String, SourceMark)] = []
        for item in items {
            if let text = string(item, "each entry of \(what)") { result.append((text, item.mark)) }
        }
        return result
    }

    // MARK: Name rules

    static func isProfileName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, isLowerAlnum(first) else { return false }
        return name.unicodeScalars.allSatisfy { isLowerAlnum($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    static func isHostPattern(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-_*?:".unicodeScalars.contains($0))
            }
    }

    static func isUserPattern(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 256
            && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && $0 != "/" && $0 != ":" }
    }

    static func isUnixUserName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first) || first == "_", text.utf8.count <= 32
        else {
            return false
        }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
    }

    static func pathPatternProblem(_ text: String) -> String? {
        if text.hasPrefix("~") { return "is not absolute: write the home directory out in full (e.g. /home/alex/...)" }
        guard text.hasPrefix("/") else {
            return "is not absolute; write the full path starting with /, e.g. /home/alex/work/billing/**"
        }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "contains control characters"
        }
        for segment in text.split(separator: "/") where segment == ".." || segment == "." {
            return "contains '\(segment)'; write the canonical path (the working directory is compared after realpath)"
        }
        return nil
    }

    private static func isLowerAlnum(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
