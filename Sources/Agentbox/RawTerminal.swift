import AgentboxCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// The developer's terminal (agentbox's stdin) in raw mode for the length of a session, so every
/// key reaches the agent's pty as typed (^C, ^Z, arrows, `read -s`). `restore()` puts the saved
/// settings back; it is also registered with `atexit`, so an `exit()` anywhere restores them.
/// SIGKILL cannot be caught: `stty sane` is the remedy then.
final class RawTerminal {
    let descriptor: Int32
    /// The settings before raw mode, also what the agent's pty starts with.
    let saved: termios

    /// The terminal's settings, or nil when `descriptor` is not a terminal of our foreground
    /// process group (a background job must not touch it: SIGTTOU).
    init?(descriptor: Int32) {
        guard isatty(descriptor) == 1, tcgetpgrp(descriptor) == getpgrp() else { return nil }
        var settings = termios()
        guard tcgetattr(descriptor, &settings) == 0 else { return nil }
        self.descriptor = descriptor
        saved = settings
    }

    /// Switches to raw mode (cfmakeraw).
    func enter() throws(SystemError) {
        var raw = saved
        cfmakeraw(&raw)
        RawTerminal.restoreState.withLock { $0 = (descriptor, saved) }
        RawTerminal.registerExitHook()
        try valueOrErrno("tcsetattr raw") { tcsetattr(descriptor, TCSADRAIN, &raw) }
    }

    /// Puts the saved settings back; safe to call more than once.
    func restore() {
        RawTerminal.restoreSaved()
    }

    private static let restoreState = Mutex<(Int32, termios)?>(nil)
    private static let hookRegistered = Mutex(false)

    static func restoreSaved() {
        guard
            let (fd, settings) = restoreState.withLock({ state -> (Int32, termios)? in
                defer { state = nil }
                return state
            })
        else { return }
        var copy = settings
        while tcsetattr(fd, TCSADRAIN, &copy) != 0 && errno == EINTR {}
    }

    private static func registerExitHook() {
        let first = hookRegistered.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { atexit { RawTerminal.restoreSaved() } }
    }
}
