import AgentboxCore
import CAgentboxSys
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Each test runs an attack from inside a real rootless sandbox and shows that it fails.
@Suite(.serialized)
struct AttackTests {
    @Test func agentCannotReadSupervisorEnvironOrCmdline() throws {
        let harness = try SandboxHarness()
        // This test process is outside; pid 1 inside is the sandbox's own init.
        let outside = getpid()
        let output = try harness.sandbox(["/bin/sh", "-c", """
            for p in \(outside) 1; do
              for f in environ cmdline; do
                if cat /proc/$p/$f >/dev/null 2>&1; then echo "READ $p/$f"; fi
              done
            done
            ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '
            """])
        #expect(output.status == .exited(0), "\(output.text)")
        #expect(!output.standardOutputText.contains("READ"))
        // Only the shell's own pipeline: neither the outside processes nor the init are listed.
        let pids = output.standardOutputText.split(separator: " ").compactMap { Int($0) }
        #expect(!pids.contains(1) && !pids.contains(Int(outside)), "\(pids)")
        #expect(pids.count <= 4, "\(pids)")
    }

    @Test func agentCannotPtraceAttach() throws {
        let harness = try SandboxHarness()
        let output = try harness.probe("ptrace", "1")
        #expect(output.status == .exited(0), "\(output.text)")
        #expect(output.standardOutputText.contains("errno=1"))
    }

    @Test func agentIsKilledForPtraceThroughInt80() throws {
        let harness = try SandboxHarness()
        let output = try harness.probe("ptrace32", "1")
        #expect(output.status == .exited(128 + SIGSYS), "\(output.text)")
        #expect(!output.standardOutputText.contains("ALLOWED"))
    }

    @Test func agentIsKilledForX32Syscalls() throws {
        let harness = try SandboxHarness()
        let output = try harness.probe("x32")
        #expect(output.status == .exited(128 + SIGSYS), "\(output.text)")
    }

    @Test(arguments: ["vmread", "io_uring", "keyctl", "bpf", "unshare", "clone-newuser", "mount"])
    func agentCannotUseDeniedSyscall(_ mode: String) throws {
        let harness = try SandboxHarness()
        let output = mode == "vmread" ? try harness.probe(mode, "1") : try harness.probe(mode)
        #expect(output.status == .exited(0), "\(output.text)")
        #expect(output.standardOutputText.contains("errno=1 "), "\(output.text)")
    }

    @Test(arguments: ["0x5412", "0x100005412", "0xffffffff00005412", "0x541c"])
    func agentCannotInjectIntoTerminal(_ request: String) throws {
        let harness = try SandboxHarness()
        if request == "0x5412" {
            // Control: outside the sandbox the same probe does inject (this kernel allows TIOCSTI).
            let outside = try harness.asAccount("/usr/bin/setsid", ["--wait", harness.probe, "tiocsti", request])
            #expect(outside.standardOutputText.contains("ALLOWED"), "\(outside.text)")
        }
        let output = try harness.probe("tiocsti", request)
        #expect(output.status == .exited(0), "\(output.text)")
        #expect(output.standardOutputText.contains("errno=1 "), "\(output.text)")
    }

    @Test func agentCannotReachBrokerSocketOrFilesInRealHome() throws {
        let harness = try SandboxHarness()
        let socketPath = harness.account.home + "/broker.sock"
        let listener = ab_listen_unix(socketPath, 4)
        defer { close(listener) }
        try FileIO.write(harness.account.home + "/secret.txt", Array("token".utf8), mode: 0o644)
        chown(socketPath, harness.account.uid, harness.account.gid)
        let connect = try harness.probe("connect", socketPath)
        #expect(connect.status == .exited(0) && connect.standardOutputText.contains("errno=2 "), "\(connect.text)")
        let read = try harness.probe("read", harness.account.home + "/secret.txt")
        #expect(read.status == .exited(0) && read.standardOutputText.contains("errno=2 "), "\(read.text)")
    }

    @Test func agentCannotPlantGitHooksOrConfig() throws {
        let harness = try SandboxHarness()
        let output = try harness.sandbox(["/bin/sh", "-c", """
            echo 'touch /tmp/pwned' > .git/hooks/pre-commit && echo WROTE-HOOK
            echo '[core] hooksPath = /tmp' >> .git/config && echo WROTE-CONFIG
            mv .git .git-moved && echo MOVED-GIT
            echo ok > file.txt && echo WROTE-TREE
            """])
        #expect(!output.standardOutputText.contains("WROTE-HOOK"), "\(output.text)")
        #expect(!output.standardOutputText.contains("WROTE-CONFIG"), "\(output.text)")
        #expect(!output.standardOutputText.contains("MOVED-GIT"), "\(output.text)")
        #expect(output.standardOutputText.contains("WROTE-TREE"), "\(output.text)")
        #expect(hostFileExists(harness.workdir.path + "/.git/hooks/pre-commit") == false)
    }

    @Test func agentGainsNothingFromSetuidBinary() throws {
        let harness = try SandboxHarness()
        let copy = harness.workdir.path + "/suid-id"
        let output0 = try ChildProcess.run(executable: "/bin/cp", arguments: ["/usr/bin/id", copy], environment: [:])
        #expect(output0.status.isSuccess)
        chmod(copy, 0o4755)  // setuid root, owned by root
        let output = try harness.sandbox([copy, "-u"])
        #expect(output.status == .exited(0), "\(output.text)")
        #expect(output.standardOutputText.trimmingNewline == String(harness.account.uid))
    }

    @Test func statusShowsNoNewPrivsSeccompAndNoCapabilities() throws {
        let harness = try SandboxHarness()
        let output = try harness.sandbox(["/bin/grep", "-E", "^(NoNewPrivs|Seccomp|CapEff|CapBnd|CapPrm|CapAmb):", "/proc/self/status"])
        let text = output.standardOutputText
        #expect(text.contains("NoNewPrivs:\t1"), "\(text)")
        #expect(text.contains("Seccomp:\t2"), "\(text)")
        #expect(text.contains("CapEff:\t0000000000000000"), "\(text)")
        #expect(text.contains("CapBnd:\t0000000000000000"), "\(text)")
        #expect(text.contains("CapPrm:\t0000000000000000"), "\(text)")
    }

    @Test func sysvSharedMemoryDoesNotOutliveTheSession() throws {
        let harness = try SandboxHarness()
        let output = try harness.probe("shm")
        #expect(output.status == .exited(0), "\(output.text)")
        // "shm ID in ipc:[INODE]": after the session no process holds that ipc namespace.
        let words = output.standardOutputText.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let namespace = words.first(where: { $0.hasPrefix("ipc:[") }).map(String.init) else {
            Issue.record("no namespace in \(output.text)")
            return
        }
        var holders: [pid_t] = []
        for pid in ProcessScan.processIDs() {
            var buffer = [CChar](repeating: 0, count: 64)
            let length = readlink("/proc/\(pid)/ns/ipc", &buffer, 63)
            if length > 0, String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) == namespace {
                holders.append(pid)
            }
        }
        #expect(holders.isEmpty, "\(namespace) still held by \(holders)")
        #expect(!namespace.isEmpty)
    }

    @Test func agentCanBuildAndRunCodeUseGitPythonAndHome() throws {
        let harness = try SandboxHarness()
        let output = try harness.sandbox(["/bin/sh", "-c", """
            set -e
            printf '#include <stdio.h>\\nint main(void){puts("built-and-ran");return 0;}\\n' > hello.c
            cc -o hello hello.c && ./hello
            git status --short >/dev/null && echo git-ok
            python3 -c 'print("python-ok")'
            echo x > "$HOME/note" && cat "$HOME/note" >/dev/null && echo home-ok
            test -d /proc/$$ && echo sees-itself
            """])
        #expect(output.status == .exited(0), "\(output.text)")
        for marker in ["built-and-ran", "git-ok", "python-ok", "home-ok", "sees-itself"] {
            #expect(output.standardOutputText.contains(marker), "\(marker): \(output.text)")
        }
    }
}

func hostFileExists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

extension String {
    var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
