/// A request as the proxy received it, before any check: the raw target and every header line
/// in order (duplicates kept).
public struct ProxyRequest: Sendable {
    public var method: String
    /// The request target exactly as sent (origin form `/p/…?q`, or anything a client tried).
    public var target: String
    public var headers: [(name: String, value: String)]

    public init(method: String, target: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.target = target
        self.headers = headers
    }

    /// The first value of a header (case-insensitive name).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }
}

/// Where a proxied request goes: `/p/<lease>/<SECRET>` + `rest` (+ `?query`).
public struct ProxyTarget: Sendable, Equatable {
    public var leaseId: String
    public var secretName: String
    /// The path after the prefix, starting with `/` (`/` when empty); matched against the allowlist.
    public var rest: String
    /// The raw query string without `?`, or nil.
    public var query: String?

    /// The prefix a lease's endpoint uses.
    public static func prefix(leaseId: String, secretName: String) -> String { "/p/\(leaseId)/\(secretName)" }

    /// The path for the audit log: no query values, only their names.
    public var auditPath: String {
        guard let query else { return rest }
        let names = query.split(separator: "&").map {
            $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
        }
        return rest + "?" + names.map { $0 + "=…" }.joined(separator: "&")
    }
}

/// Why the proxy refused a request; shown to the client as `{"error":{"message","type"}}`.
public struct ProxyRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }
}

/// The pure checks of an incoming request: target syntax, control characters, header rules.
public enum ProxyRequestCheck {
    /// Parses an origin-form target `/p/<lease>/<NAME>[/rest][?query]`. Absolute-form targets
    /// (`http://…`), authority form and anything with control characters, spaces, backslashes,
    /// fragments or dot segments are refused: the proxy is not an open proxy.
    public static func parseTarget(_ target: String) throws(ProxyRefusal) -> ProxyTarget {
        guard target.hasPrefix("/") else {
            throw ProxyRefusal(
                400, "not-origin-form",
                "refused: the proxy only serves its own paths (/p/<lease>/<secret>/…), not absolute URLs")
        }
        for byte in target.utf8
        where byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "#") {
            throw ProxyRefusal(
                400, "bad-target", "refused: the request target contains a character the proxy does not pass")
        }
        let pathPart: Substring
        var query: String?
        if let mark = target.firstIndex(of: "?") {
            pathPart = target[..<mark]
            query = String(target[target.index(after: mark)...])
        } else {
            pathPart = Substring(target)
        }
        let segments = pathPart.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard segments.count >= 3, segments.first == "p" else {
            throw ProxyRefusal(404, "unknown-route", "refused: no proxy route at this path")
        }
        let lease = String(segments[segments.startIndex + 1])
        let name = String(segments[segments.startIndex + 2])
        guard !lease.isEmpty, !name.isEmpty else {
            throw ProxyRefusal(404, "unknown-route", "refused: no proxy route at this path")
        }
        let restSegments = segments.dropFirst(3)
        for segment in restSegments {
            let lowered = segment.lowercased()
            if segment == "." || segment == ".." || lowered.contains("%2e") || lowered.contains("%2f")
                || lowered.contains("%5c") || lowered.contains("%00")
            {
                throw ProxyRefusal(
                    400, "bad-path", "refused: dot segments and encoded separators are not passed upstream")
            }
        }
        let rest = "/" + restSegments.joined(separator: "/")
        return ProxyTarget(leaseId: lease, secretName: name, rest: rest, query: query)
    }

    /// Refuses CR, LF, NUL and other control characters (but tab) in any header name or value.
    public static func checkHeaders(_ headers: [(name: String, value: String)]) throws(ProxyRefusal) {
        for (name, value) in headers {
            let badName = name.utf8.contains { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: ":") } || name.isEmpty
            let badValue = value.utf8.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }
            if badName || badValue {
                throw ProxyRefusal(
                    400, "bad-header", "refused: a header carries a control character (CR/LF injection?)")
            }
        }
    }

    /// Headers that only concern one connection (RFC 9110 §7.6.1), never forwarded.
    public static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// Credential-bearing headers a client may send; none of them is forwarded.
    public static let credentialHeaders: Set<String> = [
        "authorization", "x-api-key", "api-key", "proxy-authorization", "cookie", "cookie2", "x-goog-api-key",
    ]

    /// Headers the proxy sets itself or must not pass (length and encoding are curl's; the body
    /// must stay readable so that echoes of the key can be replaced, and whole: two ranges of an
    /// answer that echoes the key would each hold part of it, and neither part is an echo).
    public static let managed: Set<String> = [
        "host", "content-length", "expect", "accept-encoding", "forwarded",
        "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "via", "range", "if-range",
        "request-range",  // Range's older name, still honoured by some servers
    ]

    /// The headers to send upstream: the client's minus hop-by-hop headers, the headers the
    /// client names in `Connection:`, every credential header, the configured credential
    /// header and the managed ones; then the injected credential header, added last so that
    /// nothing the client sent can remove or replace it.
    public static func upstreamHeaders(
        from headers: [(name: String, value: String)], credentialHeaderName: String, credentialValue: String
    ) -> [(name: String, value: String)] {
        var dropped = hopByHop.union(credentialHeaders).union(managed)
        dropped.insert(credentialHeaderName.lowercased())
        for (name, value) in headers where name.lowercased() == "connection" || name.lowercased() == "proxy-connection"
        {
            for token in value.split(separator: ",") {
                dropped.insert(token.trimmingSpaces().lowercased())
            }
        }
        var result = headers.filter {
            !dropped.contains($0.name.lowercased()) && !$0.name.lowercased().hasPrefix("x-agentbox-")
        }
        result.append((credentialHeaderName, credentialValue))
        return result
    }

    /// Response headers not passed back: hop-by-hop ones and the length (the body is re-chunked
    /// and may change length when an echo of the key is replaced).
    public static func isDroppedResponseHeader(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return hopByHop.contains(lowered) || lowered == "content-length"
    }

    /// The values a client may carry its placeholder in: `Authorization: Bearer …`, `x-api-key`,
    /// `api-key`, and the policy's own header with the template's fixed parts removed.
    public static func presentedTokens(
        _ headers: [(name: String, value: String)], headerName: String, template: String
    ) -> [String] {
        var tokens: [String] = []
        let parts = template.split(separator: "{secret}", maxSplits: 1, omittingEmptySubsequences: false)
        let prefix = parts.first.map(String.init) ?? ""
        let suffix = parts.count > 1 ? String(parts[1]) : ""
        for (name, value) in headers {
            let lowered = name.lowercased()
            if lowered == headerName.lowercased(), value.hasPrefix(prefix), value.hasSuffix(suffix),
                value.utf8.count >= prefix.utf8.count + suffix.utf8.count
            {
                tokens.append(String(value.dropFirst(prefix.count).dropLast(suffix.count)))
            }
            if lowered == "authorization" {
                let words = value.split(separator: " ", maxSplits: 1)
                if words.count == 2, words[0].lowercased() == "bearer" {
                    tokens.append(String(words[1]).trimmingSpaces())
                }
            }
            if lowered == "x-api-key" || lowered == "api-key" { tokens.append(value.trimmingSpaces()) }
        }
        return tokens
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }

    func caseInsensitiveEquals(_ other: String) -> Bool { lowercased() == other.lowercased() }
}
