import Testing

@testable import AgentboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

@Suite struct ChildProcessTests {
    let environment = ["PATH": "/usr/bin:/bin"]

    @Test func capturesOutputErrorAndExitStatusSeparately() throws {
        let result = try ChildProcess.run(
            executable: "/bin/sh", arguments: ["-c", "printf out; printf err >&2; exit 3"],
            environment: environment)
        #expect(result.status == .exited(3))
        #expect(result.standardOutputText == "out")
        #expect(result.standardErrorText == "err")
    }

    @Test func argumentsReachTheChildLiterallyWithoutAShell() throws {
        let result = try ChildProcess.run(
            executable: "/bin/echo", arguments: ["$HOME", "*", "`id`", "a;b"], environment: environment)
        #expect(result.standardOutputText == "$HOME * `id` a;b\n")
    }

    @Test func childSeesOnlyTheEnvironmentItWasGiven() throws {
        let result = try ChildProcess.run(
            executable: "/usr/bin/env", arguments: [], environment: ["ONLY": "this value"])
        #expect(result.standardOutputText == "ONLY=this value\n")
    }

    @Test func largeOutputOnBothPipesDoesNotDeadlock() throws {
        let script =
            "i=0; while [ $i -lt 200 ]; do head -c 4000 /dev/zero; head -c 4000 /dev/zero >&2; i=$((i+1)); done"
        let result = try ChildProcess.run(
            executable: "/bin/sh", arguments: ["-c", script], environment: environment, timeout: .seconds(30))
        #expect(result.status.isSuccess)
        #expect(result.standardOutput.count == 800_000)
        #expect(result.standardError.count == 800_000)
    }

    @Test func inputBytesReachTheChildByteExact() throws {
        let input = Crypto.randomBytes(300_000)
        let result = try ChildProcess.run(
            executable: "/bin/cat", arguments: [], environment: environment, input: .bytes(input),
            timeout: .seconds(30))
        #expect(result.status.isSuccess)
        #expect(result.standardOutput.copyBytes() == input)
    }

    @Test func secretInputIsWrittenFromTheSecretBuffer() throws {
        let secret = SecretBytes(Array("line one\nline two\n".utf8))
        let result = try ChildProcess.run(
            executable: "/bin/cat", arguments: [], environment: environment, input: .secret(secret))
        #expect(result.standardOutput.constantTimeEquals(secret))
    }

    @Test func childThatIgnoresItsInputDoesNotBlockTheParent() throws {
        let result = try ChildProcess.run(
            executable: "/bin/true", arguments: [], environment: environment,
            input: .bytes([UInt8](repeating: 65, count: 1_000_000)), timeout: .seconds(30))
        #expect(result.status.isSuccess)
    }

    @Test func descriptorOpenedWithoutCloexecDoesNotLeakIntoChild() throws {
        let fd = open("/dev/null", O_RDONLY)  // deliberately without O_CLOEXEC
        try #require(fd >= 0)
        let high = dup2(fd, 150)
        defer {
            close(fd)
            close(high)
        }
        let result = try ChildProcess.run(executable: "/bin/ls", arguments: ["/proc/self/fd"], environment: environment)
        let listed = Set(result.standardOutputText.split(separator: "\n").map(String.init))
        #expect(!listed.contains("150"))
        #expect(!listed.contains(String(fd)) || fd <= 3)
        #expect(listed.isSubset(of: ["0", "1", "2", "3"]))
    }

    @Test func ignoredSigpipeIsNotInheritedByChild() throws {
        ignoreBrokenPipeSignal()
        let result = try ChildProcess.run(
            executable: "/bin/grep", arguments: ["^SigIgn:", "/proc/self/status"], environment: environment)
        let mask = try #require(UInt64(result.standardOutputText.dropFirst("SigIgn:\t".count).dropLast(), radix: 16))
        #expect(mask & (1 << UInt64(SIGPIPE - 1)) == 0)
    }

    @Test func childRunsInItsOwnProcessGroup() throws {
        let result = try ChildProcess.run(
            executable: "/bin/sh", arguments: ["-c", "ps -o pgid= -p $$; echo $$"], environment: environment)
        let fields = result.standardOutputText.split(whereSeparator: { $0 == " " || $0 == "\n" })
        try #require(fields.count == 2)
        #expect(fields[0] == fields[1])
    }

    @Test func timeoutKillsTheChildAndTheHelpersItStarted() throws {
        var template = Array("/tmp/abcp.XXXXXX".utf8CString)
        let directory = try #require(mkdtemp(&template).map { String(cString: $0) })
        let pidFile = directory + "/helper.pid"
        defer {
            unlink(pidFile)
            rmdir(directory)
        }
        let started = ContinuousClock.now
        #expect(throws: ChildProcessError.timedOut(executable: "/bin/sh", seconds: 0.5)) {
            _ = try ChildProcess.run(
                executable: "/bin/sh", arguments: ["-c", "sleep 60 & echo $! > \(pidFile); wait"],
                environment: environment, timeout: .milliseconds(500), killGracePeriod: .seconds(1))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        let text = try #require(readSmallFile(pidFile))
        let helper = try #require(pid_t(text.trimmingSuffix("\n")))
        var gone = false
        for _ in 0..<200 where !gone {
            gone = processIsGoneOrZombie(helper)
            if !gone { usleep(10_000) }
        }
        #expect(gone)
    }

    @Test func returnsWhenAGrandchildKeepsThePipesOpen() throws {
        let started = ContinuousClock.now
        let result = try ChildProcess.run(
            executable: "/bin/sh", arguments: ["-c", "sleep 3 & echo done"], environment: environment,
            timeout: .seconds(30))
        #expect(result.standardOutputText == "done\n")
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func missingExecutableIsReportedByName() {
        #expect(throws: ChildProcessError.executableNotFound(name: "/nonexistent/tool")) {
            _ = try ChildProcess.run(executable: "/nonexistent/tool", arguments: [], environment: [:])
        }
        #expect(throws: ChildProcessError.executableNotFound(name: "tool")) {
            _ = try ChildProcess.run(executable: "tool", arguments: [], environment: [:])
        }
    }

    @Test func nulInAnArgumentIsRefusedBeforeSpawning() {
        #expect(throws: ChildProcessError.self) {
            _ = try ChildProcess.run(executable: "/bin/echo", arguments: ["a\u{0}b"], environment: [:])
        }
    }

    @Test func findSearchesOnlyTheGivenPath() {
        #expect(ChildProcess.find(executable: "sh", inPath: "/nonexistent:/bin") == "/bin/sh")
        #expect(ChildProcess.find(executable: "sh", inPath: "") == nil)
        #expect(ChildProcess.find(executable: "sh", inPath: nil) == nil)
        #expect(ChildProcess.find(executable: "/bin/sh", inPath: nil) == "/bin/sh")
        #expect(ChildProcess.find(executable: "passwd", inPath: "/etc") == nil)  // not executable
    }

    @Test func inheritedStandardIOVariantReturnsTheExitStatus() throws {
        let status = try ChildProcess.runInheritingStandardIO(
            executable: "/bin/sh", arguments: ["-c", "exit 7"], environment: environment)
        #expect(status == .exited(7))
    }

    @Test func launchedChildCanBeStopped() throws {
        var template = Array("/tmp/abcp.XXXXXX".utf8CString)
        let directory = try #require(mkdtemp(&template).map { String(cString: $0) })
        let log = directory + "/log"
        defer {
            unlink(log)
            rmdir(directory)
        }
        let child = try ChildProcess.launch(
            executable: "/bin/sh", arguments: ["-c", "echo started; exec sleep 60"], environment: environment,
            logPath: log)
        #expect(child.isRunning)
        for _ in 0..<500 where readSmallFile(log) != "started\n" { usleep(10_000) }
        #expect(child.terminate(grace: .seconds(5)) == .signaled(SIGTERM))
        #expect(readSmallFile(log) == "started\n")
    }
}

private func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let length = read(fd, &buffer, buffer.count)
    guard length >= 0 else { return nil }
    return String(decoding: buffer[0..<length], as: UTF8.self)
}

private func processIsGoneOrZombie(_ pid: pid_t) -> Bool {
    guard let stat = readSmallFile("/proc/\(pid)/stat") else { return true }
    guard let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
