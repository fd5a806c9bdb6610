import AgentboxCore
import Dispatch
import Testing

/// The checks on files that carry authority (the policy file).
@Suite struct FileSafetyTests {
    /// `secret-broker policy check policy.yaml` (a path relative to the working directory) walked
    /// the parents "policy.yaml" → "." → "." … and never reached "/": the check spun forever.
    @Test(arguments: ["Package.swift", "Sources/AgentboxCore/FileSafety.swift", "./Package.swift"])
    func relativePathIsCheckedUpToTheRootAndEnds(_ path: String) {
        let done = DispatchSemaphore(value: 0)
        startDetachedThread {
            _ = try? FileSafety.requireNotWritableByOthers(path)
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 5) == .success, "the check of \(path) did not end")
    }

    @Test func absoluteJoinsTheWorkingDirectory() {
        #expect(FileSafety.absolute("/etc/passwd") == "/etc/passwd")
        #expect(FileSafety.absolute("a/b").hasSuffix("/a/b"))
        #expect(FileSafety.absolute("a/b").hasPrefix("/"))
    }
}
