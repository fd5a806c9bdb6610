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
        RawTerminal.restoreWhenStopped(descriptor, saved)
        try valueOrErrno("tcsetattr raw") { tcsetattr(descriptor, TCSADRAIN, &raw) }
    }

    /// SIGTSTP (`kill -TSTP`; the keyboard's ^Z goes to the agent in raw mode): the saved settings
    /// go back before agentbox stops, as a stopped job must not leave its shell a raw terminal.
    /// `reenter` switches back after SIGCONT.
    private static func restoreWhenStopped(_ descriptor: Int32, _ settings: termios) {
        settingsWhileStopped = settings
        descriptorWhileStopped = descriptor
        signal(SIGTSTP) { _ in
            let savedErrno = errno
            if descriptorWhileStopped >= 0 {
                var settings = settingsWhileStopped
                _ = tcsetattr(descriptorWhileStopped, TCSANOW, &settings)
            }
            _ = kill(getpid(), SIGSTOP)
            errno = savedErrno
        }
    }

    /// Switches to raw mode again after agentbox was stopped and continued (SIGCONT), as the shell
    /// that ran the job puts its own settings back when the job stops. Nothing when the session's
    /// terminal was already restored, or when agentbox is continued in the background (`bg`): the
    /// terminal then belongs to another process group.
    func reenter() {
        guard RawTerminal.restoreState.withLock({ $0 != nil }), tcgetpgrp(descriptor) == getpgrp() else { return }
        var raw = saved
        cfmakeraw(&raw)
        while tcsetattr(descriptor, TCSADRAIN, &raw) != 0 && errno == EINTR {}
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
        signal(SIGTSTP, SIG_DFL)
        descriptorWhileStopped = -1
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

/// What the SIGTSTP handler puts back: plain copies, as a signal handler cannot take a lock
/// (`tcsetattr` and `kill` are async-signal-safe).
nonisolated(unsafe) private var settingsWhileStopped = termios()
nonisolated(unsafe) private var descriptorWhileStopped: Int32 = -1
