import AgentboxCore

/// An upstream base URL for the credential proxy: `https://host[:port][/path]`, or `http://`
/// on a loopback host (for tests). No user info, query or fragment.
public struct UpstreamURL: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    /// `https` or (loopback only) `http`.
    public let scheme: String
    /// The host as written, lowercased; IPv6 literals without brackets.
    public let host: String
    public let port: Int
    /// The base path without a trailing slash; empty for the root.
    public let path: String

    public var description: String { text }

    public enum ParseError: Error, Equatable, Sendable {
        case notHTTPS
        case malformed(String)
    }

    public static func parse(_ text: String) throws(ParseError) -> UpstreamURL {
        let scheme: String
        let rest: Substring
        if text.hasPrefix("https://") {
            scheme = "https"
            rest = text.dropFirst(8)
        } else if text.hasPrefix("http://") {
            scheme = "http"
            rest = text.dropFirst(7)
        } else {
            throw .malformed("must start with https://")
        }
        if text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            throw .malformed("contains spaces or control characters")
        }
        if rest.contains("?") || rest.contains("#") { throw .malformed("must not have a query or fragment") }
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        if authority.contains("@") { throw .malformed("must not carry a user name or password") }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .malformed("unterminated IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .malformed("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        if host.isEmpty { throw .malformed("has no host") }
        var port = scheme == "https" ? 443 : 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value), portText.allSatisfy(\.isASCII) else {
                throw .malformed("has an invalid port")
            }
            port = value
        }
        let url = UpstreamURL(text: text, scheme: scheme, host: host.lowercased(), port: port, path: path)
        if scheme == "http" && !url.isLoopback { throw .notHTTPS }
        return url
    }

    /// Whether the host is literally loopback: `localhost`, `127.0.0.0/8` or `::1`.
    public var isLoopback: Bool {
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber } && Int(part)! <= 255
        }
    }
}

/// One `allow` entry of a proxy: a method and a path glob, relative to the upstream base path.
public struct ProxyRule: Sendable, Hashable, CustomStringConvertible {
    /// An uppercase HTTP method, or `*` for any method.
    public let method: String
    /// A `/`-separated glob over the request path (without the query string).
    public let path: GlobPattern

    public init(method: String, path: GlobPattern) {
        self.method = method
        self.path = path
    }

    public func matches(method: String, path: String) -> Bool {
        (self.method == "*" || self.method == method) && self.path.matches(path)
    }

    public var description: String { "\(method) \(path.pattern)" }
}

/// How the broker's proxy uses a `proxy`-class secret.
public struct ProxySpec: Sendable, Equatable {
    /// The default `maxBodyBytes`: 10 MiB.
    public static let defaultMaxBodyBytes = 10 * 1024 * 1024

    public let upstream: UpstreamURL
    /// The environment variable that receives the proxy's base URL.
    public let baseUrlEnv: String
    /// The header name, e.g. `Authorization`.
    public let headerName: String
    /// The header value with `{secret}` where the credential goes, e.g. `Bearer {secret}`.
    public let headerValueTemplate: String
    /// Allowed method/path pairs; a request matching none is refused by the proxy.
    public let allow: [ProxyRule]
    public let maxBodyBytes: Int
    /// Whether the upstream may resolve to a private, loopback or link-local address.
    public let allowPrivateUpstream: Bool
    /// The line of the `proxy:` key.
    public let line: Int

    public init(
        upstream: UpstreamURL, baseUrlEnv: String, headerName: String, headerValueTemplate: String,
        allow: [ProxyRule], maxBodyBytes: Int, allowPrivateUpstream: Bool, line: Int
    ) {
        self.upstream = upstream
        self.baseUrlEnv = baseUrlEnv
        self.headerName = headerName
        self.headerValueTemplate = headerValueTemplate
        self.allow = allow
        self.maxBodyBytes = maxBodyBytes
        self.allowPrivateUpstream = allowPrivateUpstream
        self.line = line
    }

    /// The header value with the secret in place of `{secret}`.
    public func headerValue(secret: String) -> String {
        headerValueTemplate.replacing("{secret}", with: secret)
    }

    /// Whether some `allow` rule admits `method path`.
    public func allows(method: String, path: String) -> Bool {
        allow.contains { $0.matches(method: method, path: path) }
    }

    /// Whether `name` is an HTTP header field name (an RFC 9110 token).
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    return true
                default:
                    return "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
            }
    }
}
