#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// A failed system call: which operation, and the errno it left.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(code)))"
    }
}

/// Runs a system call, retrying on EINTR, and turns a -1 result into a typed `SystemError`.
@discardableResult
public func valueOrErrno<T: FixedWidthInteger>(
    _ operation: String, retryOnInterrupt: Bool = true, _ body: () -> T
) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR && retryOnInterrupt { continue }
        throw SystemError(operation, code: code)
    }
}

/// Ignores SIGPIPE once for the process, so a peer that goes away yields EPIPE rather than death.
public func ignoreBrokenPipeSignal() {
    _ = signal(SIGPIPE, SIG_IGN)
}
