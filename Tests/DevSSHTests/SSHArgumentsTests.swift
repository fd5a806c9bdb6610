import AgentboxCore
import Testing

@testable import DevSSH

@Suite struct SSHArgumentsTests {
    @Test func optionsDestinationAndCommandAreSplitLikeSSH() throws {
        let parsed = try SSHArguments.parse(["-p", "2222", "-tt", "-oUser=alex", "-i", "key", "box", "ls", "-l"])
        #expect(parsed.options == ["-p", "2222", "-tt", "-oUser=alex", "-i", "key"])
        #expect(parsed.destination == "box")
        #expect(parsed.remoteCommand == ["ls", "-l"])
    }

    @Test func gluedOptionValuesAreKeptWhole() throws {
        let parsed = try SSHArguments.parse(["-p2222", "-vF", "cfg", "alex@box"])
        #expect(parsed.options == ["-p2222", "-vF", "cfg"])
        #expect(parsed.hostAlias == "box")
    }

    @Test(arguments: [("alex@remote-devbox-1", "remote-devbox-1"), ("ssh://alex@box:2222", "box"),
                      ("[::1]", "::1"), ("box", "box")])
    func hostAliasIsWhatTheDeveloperTyped(destination: String, alias: String) throws {
        #expect(try SSHArguments.parse([destination]).hostAlias == alias)
    }

    @Test(arguments: ["-M", "-S", "-O", "-f", "-N", "-G", "-W"])
    func optionsDevSSHManagesItselfAreRefused(option: String) {
        #expect(throws: UsageError.self) { try SSHArguments.parse([option, "x", "box"]) }
    }

    @Test func missingHostIsAUsageError() {
        #expect(throws: UsageError.self) { try SSHArguments.parse(["-p", "22"]) }
        #expect(throws: UsageError.self) { try SSHArguments.parse(["-p"]) }
        #expect(throws: UsageError.self) { try SSHArguments.parse(["-Z", "box"]) }
    }

    @Test func sessionOptionsKeepTtyAndVerbosityOnly() throws {
        let parsed = try SSHArguments.parse(["-t", "-v", "-p", "22", "-L", "1:h:2", "box"])
        #expect(parsed.sessionOptions == ["-t", "-v"])
    }

    @Test func remotePreparationReportIsParsed() {
        #expect(RemotePreparation.parse("dir=/run/user/1000/agentbox\nenv=devssh-probe\n")
            == .init(directory: "/run/user/1000/agentbox", environmentAccepted: true))
        #expect(RemotePreparation.parse("dir=/home/a/.agentbox/run\nenv=missing\n")?.environmentAccepted == false)
        #expect(RemotePreparation.parse("garbage") == nil)
        #expect(RemotePreparation.parse("dir=relative\n") == nil)
    }

    @Test func remotePreparationCarriesNoSingleQuoteThatWouldBreakItsQuoting() {
        let command = RemotePreparation.command
        #expect(command.hasPrefix("exec sh -c '"))
        #expect(command.dropFirst("exec sh -c '".count).dropLast().contains("'") == false)
    }
}
