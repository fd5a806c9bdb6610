import Sandbox
import Testing

@testable import Agentbox

@Suite struct SandboxSettingsTests {
    @Test func commandLineMayTightenTheProfilesNetwork() throws {
        #expect(try SandboxSettings.network(profile: "proxy-only", requested: SandboxNetwork.none) == SandboxNetwork.none)
        #expect(try SandboxSettings.network(profile: "host", requested: .proxyOnly) == .proxyOnly)
        #expect(try SandboxSettings.network(profile: "none", requested: nil) == SandboxNetwork.none)
        #expect(try SandboxSettings.network(profile: nil, requested: nil) == .proxyOnly)
    }

    @Test func commandLineCannotLoosenTheProfilesNetwork() {
        #expect(throws: AgentboxError.self) { try SandboxSettings.network(profile: "proxy-only", requested: .host) }
        #expect(throws: AgentboxError.self) { try SandboxSettings.network(profile: "none", requested: .proxyOnly) }
        #expect(throws: AgentboxError.self) { try SandboxSettings.network(profile: "wide-open", requested: nil) }
    }

    @Test func profilesRunAsCannotBeSwappedForAnotherAccount() throws {
        #expect(try SandboxSettings.account(profile: "agent1", requested: nil) == "agent1")
        #expect(try SandboxSettings.account(profile: "agent1", requested: "agent1") == "agent1")
        #expect(try SandboxSettings.account(profile: nil, requested: "agent2") == "agent2")
        #expect(throws: AgentboxError.self) { try SandboxSettings.account(profile: "agent1", requested: "root") }
    }
}
