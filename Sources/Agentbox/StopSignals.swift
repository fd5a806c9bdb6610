import AgentboxCore
import CAgentboxSys
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// SIGTERM (`agentbox stop`), SIGINT and SIGHUP from the moment a session is being set up:
/// caught by a plain handler installed synchronously (no window in which such a signal is lost or
/// kills agentbox with the session half made), remembered until the session can act on it, then
/// acted on by the thread that waits for the session (`SandboxProcess.wait(wakingOn:)` watches
/// `wakeDescriptor`).
///
/// Installed before the lease is asked for: while agentbox waits for the broker (approval, vault
/// unlock), a stop signal gives the request up (`wakeDescriptor` cancels it) and agentbox ends;
/// one that comes after the grant has the lease released before anything is built.
enum StopSignals {
    static let signals = [SIGTERM, SIGINT, SIGHUP]

    /// Installs the handlers. Idempotent.
    static func install() {
        guard stopWakeDescriptors.0 < 0 else { return }
        var fds: [Int32] = [-1, -1]
        guard ab_pipe(&fds, 0) == 0 else { return }  // close-on-exec, blocking
        // The handler's end never blocks: the first byte is all the reader needs.
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        stopWakeDescriptors = (fds[0], fds[1])
        for signalNumber in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                let saved = errno
                _ = receivedStopSignal.compareExchange(expected: 0, desired: number, ordering: .relaxed)
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(stopWakeDescriptors.1, &byte, 1)
                errno = saved
            }
            sigfillset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signalNumber, &action, nil)
        }
    }

    /// Readable once a stop signal has arrived (never read here: the session's waiting thread takes the byte).
    static var wakeDescriptor: Int32? { stopWakeDescriptors.0 >= 0 ? stopWakeDescriptors.0 : nil }

    /// The first stop signal received, if any.
    static var received: Int32? {
        let number = receivedStopSignal.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }
}

/// For the signal handler: plain globals (a handler cannot take a lock).
private let receivedStopSignal = Atomic<Int32>(0)
nonisolated(unsafe) private var stopWakeDescriptors: (Int32, Int32) = (-1, -1)
