/// One rule of the seccomp filter: a syscall of the native ABI, an action, and at most one
/// argument condition `(arg & mask) == value`.
public struct SeccompRule: Sendable, Equatable, CustomStringConvertible {
    public enum Action: Sendable, Equatable {
        case errno(Int32)
        case killProcess
    }

    public struct Condition: Sendable, Equatable {
        public var argument: Int
        public var mask: UInt64
        public var value: UInt64

        public init(argument: Int, mask: UInt64, value: UInt64) {
            self.argument = argument
            self.mask = mask
            self.value = value
        }
    }

    public var syscall: String
    public var action: Action
    public var condition: Condition?
    /// The line in the profile file.
    public var line: Int

    public init(syscall: String, action: Action, condition: Condition? = nil, line: Int = 0) {
        self.syscall = syscall
        self.action = action
        self.condition = condition
        self.line = line
    }

    public var description: String {
        var text = syscall
        switch action {
        case .errno(let code): text += " -> errno \(SeccompProfile.errnoName(code) ?? String(code))"
        case .killProcess: text += " -> kill process"
        }
        if let condition {
            text += " when arg\(condition.argument) & 0x\(String(condition.mask, radix: 16)) == 0x\(String(condition.value, radix: 16))"
        }
        return text
    }
}
