import AgentboxCore
import BrokerControl
import BrokerProtocol
import SecretsRun

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// `devssh --local NAME -- COMMAND`: a broker session without ssh. The command runs on this
/// machine with the session's socket and nonce, as a remote shell would get them.
struct LocalSession {
    let host: String
    let broker: ControlClient
    let environment: [String: String]

    func run(_ command: [String]) throws(DevSSHError) -> Int32 {
        let session: SessionCreated
        do {
            session = try broker.registerSession(
                SessionRegistration(host: host, remoteUser: SecretsCommand.currentUserName(), ownerPid: getpid()))
        } catch {
            throw .broker("cannot register the session with secret-broker: \(error)")
        }
        defer { try? broker.endSession(session.sessionId) }
        guard let executable = ChildProcess.find(executable: command[0], inPath: environment["PATH"]) else {
            throw .usage("cannot find \(command[0]) on PATH")
        }
        var childEnvironment = environment
        childEnvironment[RemoteRuntimeDirectory.nonceEnvironmentName] = session.nonce
        childEnvironment[RemoteRuntimeDirectory.socketEnvironmentName] = session.socketPath
        do {
            switch try ChildProcess.runInheritingStandardIO(
                executable: executable, arguments: Array(command.dropFirst()), environment: childEnvironment)
            {
            case .exited(let code): return code
            case .signaled(let signal): return 128 + signal
            }
        } catch {
            throw .ssh("cannot run \(command[0]): \(error)")
        }
    }
}
