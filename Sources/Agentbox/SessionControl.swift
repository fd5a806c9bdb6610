import AgentboxCore
import BrokerProtocol
import CAgentboxSys
import Redaction

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// A live session's private control socket, `RUNTIME/sessions/ID/control.sock` (0600 in 0700
/// directories, outside everything the sandbox can see). Its one job: give `agentbox redact
/// --from-session ID`, run by the same user, the values the session's redactor uses, so old logs
/// can be cleaned with exactly the session's secrets. The values never touch the disk: they
/// live in the supervisor's memory and die with it; once the session has ended,
/// `--from-session` can no longer work, and says so.
///
/// Answer format: one line per value, `NAME<TAB>BASE64(VALUE)`, then end of file. A peer whose
/// uid is not ours (SO_PEERCRED) gets nothing.
final class SessionControlServer: @unchecked Sendable {
    static let socketName = "control.sock"
    private let listener: Int32
    private let answer: [UInt8]
    private let done = CompletionEvent()
    private var started = false

    init(sessionDirectory: String, secrets: [RedactionSecret]) throws(SystemError) {
        let path = sessionDirectory + "/" + Self.socketName
        listener = try valueOrErrno("listen on \(path)") { ab_listen_unix(path, 4) }
        var text: [UInt8] = []
        for secret in secrets {
            text += Array((secret.name ?? "").utf8.filter { $0 != 0x09 && $0 != 0x0A }) + [0x09]
            text += secret.value.withUnsafeBytes { Array(Base64.encode($0).utf8) } + [0x0A]
        }
        answer = text
    }

    func start() {
        started = true
        startDetachedThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    break  // shut down
                }
                var uid: uid_t = 0
                var pid: pid_t = 0
                if ab_peer_credentials(client, &uid, &pid) == 0 && uid == getuid() {
                    var offset = 0
                    while offset < answer.count {
                        let written = answer.withUnsafeBytes {
                            write(client, $0.baseAddress! + offset, $0.count - offset)
                        }
                        if written <= 0 { break }
                        offset += written
                    }
                }
                close(client)
            }
            done.complete()
        }
    }

    /// Stops answering (shutdown wakes the blocked accept) and closes the socket.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        if started { _ = done.wait(timeout: .seconds(2)) }
        close(listener)
    }

    /// The values of the live session `id`, asked over its control socket.
    static func values(store: SessionStore, id: String) throws(AgentboxError) -> [RedactionSecret] {
        guard !id.isEmpty, !id.contains("/"), !id.hasPrefix(".") else { throw .noSuchSession(id) }
        let path = store.sessionDirectory(id) + "/" + socketName
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .system("\(path): path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket: \(SystemError("socket"))") }
        defer { close(fd) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            if errno == ENOENT || errno == ECONNREFUSED { throw .noSuchSession(id) }
            throw .system("cannot reach session \(id): \(SystemError("connect"))")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes += chunk[0..<count]
                continue
            }
            if count < 0 && errno == EINTR { continue }
            break
        }
        var secrets: [RedactionSecret] = []
        for line in bytes.split(separator: 0x0A) {
            guard let tab = line.firstIndex(of: 0x09),
                let value = Base64.decode(String(decoding: line[(tab + 1)...], as: UTF8.self))
            else { throw .system("session \(id) gave an answer that is not NAME<TAB>BASE64 lines") }
            let name = String(decoding: line[..<tab], as: UTF8.self)
            secrets.append(RedactionSecret(name: name.isEmpty ? nil : name, value: value))
        }
        return secrets
    }
}

/// `agentbox redact [--from-session ID] [agentbox-redact options] [FILE...]`.
enum RedactSubcommand {
    static func run(_ arguments: [String], environment: [String: String]) -> Int32 {
        var rest: [String] = []
        var session: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--from-session", index + 1 < arguments.count {
                session = arguments[index + 1]
                index += 2
                continue
            }
            if argument.hasPrefix("--from-session=") {
                session = String(argument.dropFirst("--from-session=".count))
            } else if argument == "--from-session" {
                writeStandardError("agentbox redact: --from-session needs a session id (see agentbox list)\n")
                return ExitCode.usage.rawValue
            } else {
                rest.append(argument)
            }
            index += 1
        }
        var secrets: [RedactionSecret] = []
        if let session {
            do {
                let store = SessionStore.holding(session, environment: environment) ?? SessionStore(environment: environment)
                secrets = try SessionControlServer.values(store: store, id: session)
            } catch {
                writeStandardError(
                    "agentbox redact: --from-session \(session): \(error); the values exist only while the session runs\n"
                )
                return error.exitCode
            }
        }
        return RedactCommand.run(rest, extraSecrets: secrets).rawValue
    }
}
