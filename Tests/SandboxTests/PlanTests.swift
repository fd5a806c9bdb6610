import Sandbox
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

struct SeccompProfileTests {
    @Test func defaultProfileParsesAndDeniesTheIssueList() throws {
        let text = FileIO.readText(SandboxHarness.seccompProfile)
        let rules = try SeccompProfile.parse(text, fileName: "seccomp-default.txt")
        let names = Set(rules.map(\.syscall))
        for name in ["ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "io_uring_setup", "io_uring_enter",
                     "io_uring_register", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
                     "kexec_load", "kexec_file_load", "mount", "umount2", "move_mount", "open_tree", "fsopen", "fsmount",
                     "fsconfig", "fspick", "pivot_root", "unshare", "setns", "clone", "clone3", "ioctl"] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(rules.first { $0.syscall == "clone3" }?.action == .errno(38))
        let tiocsti = rules.first { $0.syscall == "ioctl" && $0.condition?.value == 0x5412 }
        #expect(tiocsti?.condition?.mask == 0xffff_ffff)
        #expect(rules.contains { $0.syscall == "clone" && $0.condition?.value == 0x1000_0000 })
    }

    @Test func malformedLineIsRefusedWithItsNumber() {
        #expect(throws: SeccompProfile.ParseError.self) {
            try SeccompProfile.parse("ptrace EPERM\nioctl EPERM arg1 & 0xff == 0x5412\n", fileName: "p")
        }
        do {
            _ = try SeccompProfile.parse("ptrace EPERM\nbpf MAYBE\n", fileName: "p")
        } catch {
            #expect(error.line == 2)
        }
    }
}

struct SandboxPlannerTests {
    static func request(workdir: String = "/work/project", network: SandboxNetwork = .proxyOnly) -> SandboxRequest {
        SandboxRequest(
            workdir: workdir, network: network,
            identity: .userNamespace(insideUID: 1000, outsideUID: 1000, insideGID: 1000, outsideGID: 1000),
            sessionDirectory: "/run/user/1000/agentbox/sessions/s/home", newRoot: "/run/user/1000/agentbox/sessions/s/root",
            userHome: "/home/alex", argv: ["codex"], environment: [("PATH", Array("/usr/bin".utf8)), ("HOME", Array("/home/alex".utf8))],
            seccomp: [SeccompRule(syscall: "ptrace", action: .errno(1))])
    }

    static func layout(_ path: String) -> HostFileKind {
        switch path {
        case "/bin", "/lib", "/sbin": return .symlink(destination: "usr" + path)
        case "/usr", "/etc", "/lib64", "/work/project", "/work/project/.git", "/work/project/.git/hooks": return .directory
        case "/work/project/.git/config": return .file
        case "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty": return .characterDevice
        default: return .missing
        }
    }

    @Test func planBindsSystemReadOnlyWorkdirWritableAndGitProtectedInOrder() throws {
        let plan = try SandboxPlanner.plan(Self.request(), kind: Self.layout)
        #expect(plan.mounts.contains(.bind(source: "/usr", target: "/usr", readOnly: true, isFile: false, sourceInRoot: false)))
        #expect(plan.mounts.contains(.symlink(target: "/bin", destination: "usr/bin")))
        #expect(plan.mounts.contains(.filesystem(type: "proc", target: "/proc", options: "hidepid=invisible", readOnly: false, noExec: true)))
        let work = plan.mounts.firstIndex(of: .bind(source: "/work/project", target: "/work/project", readOnly: false, isFile: false, sourceInRoot: false))
        let hooks = plan.mounts.firstIndex(of: .bind(source: "/work/project/.git/hooks", target: "/work/project/.git/hooks", readOnly: true, isFile: false, sourceInRoot: true))
        let config = plan.mounts.firstIndex(of: .bind(source: "/work/project/.git/config", target: "/work/project/.git/config", readOnly: true, isFile: true, sourceInRoot: true))
        #expect(work != nil && hooks != nil && config != nil)
        #expect(work! < hooks! && hooks! < config!)
        #expect(!plan.mounts.contains { $0.target.hasPrefix("/home/alex") })
        #expect(plan.namespaces == [.user, .pid, .mount, .ipc, .uts, .network])
        #expect(plan.environment.first { $0.name == "HOME" }?.value == Array("/home/agent".utf8))
        #expect(plan.description.contains("hidepid=invisible"))
    }

    @Test func hostNetworkHasNoNetworkNamespace() throws {
        let plan = try SandboxPlanner.plan(Self.request(network: .host), kind: Self.layout)
        #expect(!plan.namespaces.contains(.network))
    }

    @Test(arguments: ["/", "/home", "/home/alex", "/usr/local/src", "/etc"])
    func workdirThatWouldExposeTooMuchIsRefused(_ workdir: String) {
        #expect(throws: SandboxError.self) {
            try SandboxPlanner.plan(Self.request(workdir: workdir), kind: { _ in .directory })
        }
    }

    @Test func symlinkedGitHooksAreRefused() {
        #expect(throws: SandboxError.self) {
            try SandboxPlanner.plan(Self.request()) { path in
                path == "/work/project/.git/hooks" ? .symlink(destination: "../hooks-elsewhere") : Self.layout(path)
            }
        }
    }
}

struct ProtectionRefusalTests {
    @Test func refusesWhenUserNamespacesAreDisabled() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("max_user_namespaces", Array("0\n".utf8))
        let features = HostFeatures.detect(maxUserNamespacesPath: path)
        let plan = try SandboxPlanner.plan(SandboxPlannerTests.request(), kind: SandboxPlannerTests.layout)
        let refusal = features.refusal(for: plan)
        #expect(refusal == .missingProtection(protection: "user namespaces", reason: "user.max_user_namespaces is 0"))
        #expect(refusal?.description.contains("refusing to start") == true)
        #expect(HostFeatures.detect().refusal(for: plan) == nil)
    }

    /// In a user namespace of its own whose max_user_namespaces is 0, `agentbox` must refuse
    /// rather than run unconfined; with the limit at 1 and the one slot taken, detection passes
    /// and the real unshare(CLONE_NEWUSER) fails: that failure must refuse as well.
    @Test(arguments: [("0", false), ("1", true)])
    func agentboxRefusesWhenTheKernelWillNotGiveAUserNamespace(_ limit: String, _ occupySlot: Bool) throws {
        let harness = try SandboxHarness()
        let occupy = occupySlot ? "unshare --user sleep 30 & sleep 0.3;" : ""
        let output = try harness.asAccount("/usr/bin/unshare", ["--user", "--map-root-user", "/bin/sh", "-c", """
            echo \(limit) > /proc/sys/user/max_user_namespaces || exit 99
            \(occupy)
            \(SandboxHarness.agentbox) sandbox --seccomp-profile \(SandboxHarness.seccompProfile) --workdir \(harness.workdir.path) -- /bin/echo UNCONFINED
            status=$?
            kill %1 2>/dev/null
            exit $status
            """])
        #expect(output.status == .exited(78), "\(output.text)")
        #expect(!output.standardOutputText.contains("UNCONFINED"))
        #expect(output.standardErrorText.contains("user namespaces"), "\(output.text)")
    }
}
