/// A request as the server's handler sees it.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without its query string.
    public var path: String
    public var query: [String: String]
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: [UInt8]
    /// The connecting process, from SO_PEERCRED.
    public var peer: PeerCredentials
    /// Whether the client has closed its connection or shut down its sending side (which is how
    /// a client that is gone shows through ssh forwarding). For long-polls and slow answers; valid
    /// only while the handler runs.
    public var connectionClosed: @Sendable () -> Bool = { false }

    public init(
        method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
        body: [UInt8] = [], peer: PeerCredentials
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.peer = peer
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// The uid and pid of the process at the other end of a Unix socket.
public struct PeerCredentials: Sendable, Equatable {
    public var uid: UInt32
    public var pid: Int32
    public init(uid: UInt32, pid: Int32) {
        self.uid = uid
        self.pid = pid
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var contentType: String

    public init(status: Int, body: [UInt8], contentType: String = "application/json") {
        self.status = status
        self.body = body
        self.contentType = contentType
    }
}

/// What serves requests on a socket. Called on the connection's own thread; may block (long-polls).
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest) -> HTTPResponse
}
