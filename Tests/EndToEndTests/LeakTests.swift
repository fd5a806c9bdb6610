import AgentboxCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A granted value lives only in the target command's environment: never in any process's
/// argv while it runs, never in a log, never in a file on the remote box.
@Suite struct LeakTests {
    @Test func secretValuesAppearInNoArgvLogOrRemoteFileWhileACommandRuns() throws {
        let world = try TestSecrets.world(usePass: true)
        defer { world.stop() }
        let values = [("DB_PASSWORD", TestSecrets.databasePassword), ("API_TOKEN", TestSecrets.apiToken)]
        // Each line of the multi-line value on its own, too: a value split across arguments still leaks.
        let needles =
            values
            + TestSecrets.databasePassword.split(separator: 0x0A).filter { $0.count >= 8 }.enumerated().map {
                ("DB_PASSWORD line \($0.offset + 1)", Array($0.element))
            }

        let running = try world.start(world.secretsRun("billing-dev", "/bin/sleep 3"))
        // The command runs with the values in its environment: that is when a leak would show.
        var sleeper: pid_t = 0
        try waitUntil("the remote sleep runs with the secrets") {
            for pid in ProcessScan.processes(ownedBy: world.account.uid) {
                guard FileIO.read("/proc/\(pid)/cmdline") == Array("/bin/sleep\u{0}3\u{0}".utf8),
                    let environ = FileIO.read("/proc/\(pid)/environ")
                else { continue }
                if environ.firstRange(of: Array("DB_PASSWORD=".utf8) + TestSecrets.databasePassword) != nil {
                    sleeper = pid
                    return true
                }
            }
            return false
        }
        // The scan does see the remote user's processes: it finds the sleeper by its own argv.
        #expect(ProcessScan.processesWhoseArgumentsContain(Array("/bin/sleep\u{0}3".utf8)).contains(sleeper))
        var scans = 0
        while running.child.isRunning {
            let commandLines = ProcessScan.commandLines()
            for (name, needle) in needles {
                let holders = commandLines.filter { $0.commandLine.firstRange(of: needle) != nil }.map(\.pid)
                #expect(holders.isEmpty, "\(name) in the argv of pids \(holders)")
            }
            scans += 1
            usleep(50_000)
        }
        #expect(running.wait() == 0, "devssh: \(redact(running.logText))")
        #expect(scans >= 5, "the command ended before the argv scans (\(scans))")
        #expect(sleeper > 0)

        for (name, needle) in needles {
            #expect(running.log.firstRange(of: needle) == nil, "\(name) in devssh's output")
            #expect(world.placesHolding(needle) == [], "\(name) found where it must not be")
        }
        #expect(world.broker.auditLines.contains { $0.contains("\"event\":\"grant\"") })
    }
}
