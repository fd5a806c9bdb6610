import CSandbox

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// A sandbox whose init is still building it: `SandboxLauncher.launch` returns one right after
/// the clone. `awaitStart` waits for the command's exec (or the step that failed); `abandon`
/// ends a launch the caller gives up on. One of the two must be called.
public final class SandboxLaunch: @unchecked Sendable {
    /// The init, known from the clone on (signals reach it even while it builds the sandbox).
    public let process: SandboxProcess
    private let plan: SandboxPlan
    private var statusDescriptor: Int32
    private var listenerChannel: Int32
    private let listenerCount: Int

    init(process: SandboxProcess, plan: SandboxPlan, statusDescriptor: Int32, listenerChannel: Int32, listenerCount: Int) {
        self.process = process
        self.plan = plan
        self.statusDescriptor = statusDescriptor
        self.listenerChannel = listenerChannel
        self.listenerCount = listenerCount
    }

    deinit { closeDescriptors() }

    /// Returns once the command was exec'd inside (with the listeners made inside, when the plan
    /// asked for them), or throws the step that failed after the init has been reaped.
    public func awaitStart() throws(SandboxError) -> SandboxProcess {
        defer { closeDescriptors() }
        if let failure = SandboxLauncher.readReport(statusDescriptor) {
            _ = process.wait()
            throw SandboxLauncher.error(for: failure, plan: plan)
        }
        if listenerCount > 0 {
            var fds = [Int32](repeating: -1, count: listenerCount)
            let received = ab_receive_descriptors(listenerChannel, &fds, fds.count)
            guard received == listenerCount else {
                let code = errno
                for fd in fds where fd >= 0 { close(fd) }
                process.terminate(grace: .milliseconds(100))
                _ = process.wait()
                throw .stepFailed(step: "listen on the proxy ports inside the sandbox", detail: nil, code: code)
            }
            process.listeners = fds
        }
        return process
    }

    /// Kills the init (and whatever it started) and reaps it.
    public func abandon() {
        closeDescriptors()
        process.send(SIGKILL)
        _ = process.wait()
    }

    private func closeDescriptors() {
        if statusDescriptor >= 0 { close(statusDescriptor) }
        if listenerChannel >= 0 { close(listenerChannel) }
        statusDescriptor = -1
        listenerChannel = -1
    }
}
