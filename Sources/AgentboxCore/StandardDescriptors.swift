#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// Standard input, output and error as every command expects them: open.
public enum StandardDescriptors {
    /// Opens `/dev/null` on each of 0, 1 and 2 that is closed (`cmd <&- >&-`). Called first thing:
    /// otherwise the next descriptor a command opens becomes "stdout" — agentbox's stop-signal
    /// pipe took fd 1 that way, and the agent's output written there stopped the session.
    public static func ensureOpen() {
        // Lowest first: open() takes the lowest free number, the one being filled.
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) < 0 && errno == EBADF {
            _ = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
        }
    }
}
