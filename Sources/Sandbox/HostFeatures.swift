import CAgentboxSys
import CSandbox

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#else
#error("unsupported platform")
#endif

/// What the kernel of this box offers the sandbox, read from `/proc` and `/sys`.
public struct HostFeatures: Sendable, Equatable {
    /// `user.max_user_namespaces`; nil when the file cannot be read.
    public var maxUserNamespaces: Int?
    /// Debian's older `kernel.unprivileged_userns_clone`; nil when the kernel has no such knob.
    public var unprivilegedUserNamespaceClone: Int?
    public var seccomp: Bool
    /// Whether the host's own `/proc` is mounted with hidepid=invisible (informational).
    public var hostProcHidepid: Bool
    /// 2 for a unified cgroup v2 hierarchy, 1 otherwise; nil when `/sys/fs/cgroup` is absent.
    public var cgroupVersion: Int?
    public var isRoot: Bool

    public static let maxUserNamespacesPath = "/proc/sys/user/max_user_namespaces"

    /// Reads the features; `maxUserNamespacesPath` is a parameter so a test can point it elsewhere.
    /// Without `informational`, only what `refusal(for:)` decides on (for `start`: the host's
    /// mount table and cgroup version are for `doctor`).
    public static func detect(
        maxUserNamespacesPath: String = HostFeatures.maxUserNamespacesPath, informational: Bool = true
    ) -> HostFeatures {
        let version = informational ? ab_cgroup_version() : 0
        return HostFeatures(
            maxUserNamespaces: readInteger(maxUserNamespacesPath),
            unprivilegedUserNamespaceClone: readInteger("/proc/sys/kernel/unprivileged_userns_clone"),
            seccomp: ab_seccomp_available() == 1,
            hostProcHidepid: informational && ab_mountinfo_has_hidepid("/proc/self/mountinfo", "/proc") == 1,
            cgroupVersion: version == 0 ? nil : Int(version),
            isRoot: geteuid() == 0)
    }

    /// Why `plan` cannot be given its protections on this box, or nil when it can. A plan that
    /// needs a user namespace is refused when they are disabled; seccomp is always required.
    /// (hidepid is checked by the kernel when `/proc` is mounted: a refusal there fails the step.)
    public func refusal(for plan: SandboxPlan) -> SandboxError? {
        if plan.namespaces.contains(.user) {
            guard let max = maxUserNamespaces else {
                return .missingProtection(protection: "user namespaces", reason: "\(HostFeatures.maxUserNamespacesPath) cannot be read")
            }
            if max == 0 {
                return .missingProtection(protection: "user namespaces", reason: "user.max_user_namespaces is 0")
            }
            if !isRoot, unprivilegedUserNamespaceClone == 0 {
                return .missingProtection(protection: "user namespaces", reason: "kernel.unprivileged_userns_clone is 0")
            }
        }
        if !seccomp {
            return .missingProtection(protection: "seccomp", reason: "the kernel does not offer seccomp filters with kill-process")
        }
        return nil
    }

    static func readInteger(_ path: String) -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return Int(String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: " \n\t"))
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}

/// The host's filesystem as the planner sees it, through `lstat`.
public func hostFileKind(_ path: String) -> HostFileKind {
    var info = stat()
    guard lstat(path, &info) == 0 else { return .missing }
    switch info.st_mode & S_IFMT {
    case S_IFDIR: return .directory
    case S_IFREG: return .file
    case S_IFCHR: return .characterDevice
    case S_IFLNK:
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length >= 0 else { return .missing }
        return .symlink(destination: String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    default: return .missing
    }
}

/// The native architecture as libseccomp names it (`ab_seccomp_native_arch`).
public func ab_native_arch() -> UnsafePointer<CChar> { ab_seccomp_native_arch() }

/// Zeroes a buffer that held a secret (`ab_secure_zero`).
public func ab_zero(_ buffer: UnsafeMutableRawBufferPointer) {
    ab_secure_zero(buffer.baseAddress, buffer.count)
}
