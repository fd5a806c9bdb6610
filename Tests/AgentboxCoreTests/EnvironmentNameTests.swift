import Testing

@testable import AgentboxCore

@Suite struct EnvironmentNameTests {
    @Test(arguments: ["DB_URL", "_private", "a", "OPENAI_API_KEY2", "x_1"])
    func acceptsPortableNames(name: String) {
        #expect(EnvironmentName.isValid(name))
    }

    @Test(arguments: ["", "1ABC", "DB-URL", "DB URL", "A=B", "LD_PRELOAD\n", "ÉTÉ", "A\0B", "$HOME"])
    func refusesNamesAShellOrExecveWouldMisread(name: String) {
        #expect(!EnvironmentName.isValid(name))
    }

    @Test func caseAndDashVariantsCollide() {
        #expect(EnvironmentName.collisionKey("db-url") == "DB_URL")
        #expect(EnvironmentName.collisionKey("Db_Url") == EnvironmentName.collisionKey("DB_URL"))
        #expect(EnvironmentName.collisionKey("DB_URL") != EnvironmentName.collisionKey("DB_URL2"))
    }
}
