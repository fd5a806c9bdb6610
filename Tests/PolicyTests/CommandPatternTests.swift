import Testing

@testable import Policy

@Suite struct CommandPatternTests {
    private func pattern(_ text: String) throws -> CommandPattern {
        try CommandPattern.parse(text)
    }

    @Test func trailingStarNeedsAtLeastOneArgument() throws {
        let codex = try pattern("codex *")
        #expect(codex.matches(["codex", "exec", "hi"]))
        #expect(codex.matches(["codex", "--help"]))
        #expect(!codex.matches(["codex"]))
        #expect(!codex.matches(["codex2", "exec"]))
    }

    @Test func exactCommandDoesNotAcceptExtraArguments() throws {
        let npmTest = try pattern("npm test")
        #expect(npmTest.matches(["npm", "test"]))
        #expect(!npmTest.matches(["npm", "test", "--watch"]))
        #expect(!npmTest.matches(["npm"]))
        #expect(!npmTest.matches(["npm", "testx"]))
    }

    @Test func middleStarMatchesExactlyOneArgument() throws {
        let git = try pattern("git * --dry-run")
        #expect(git.matches(["git", "push", "--dry-run"]))
        #expect(!git.matches(["git", "push", "origin", "--dry-run"]))
        #expect(!git.matches(["git", "--dry-run"]))
    }

    @Test func argumentWithSpaceCannotImpersonateTwoTokens() throws {
        #expect(!(try pattern("npm test")).matches(["npm test"]))
        #expect(!(try pattern("npm test")).matches(["npm", "test "]))
    }

    @Test func quotedTokensKeepTheirSpaces() throws {
        let tool = try pattern("\"my tool\" --name='a b' ''")
        #expect(tool.tokens.map(\.pattern) == ["my tool", "--name=a b", ""])
        #expect(tool.matches(["my tool", "--name=a b", ""]))
        #expect(!tool.matches(["my", "tool", "--name=a b", ""]))
    }

    @Test func globInsideATokenStaysInsideThatArgument() throws {
        let gradle = try pattern("./gradlew test --tests=*Billing*")
        #expect(gradle.matches(["./gradlew", "test", "--tests=com.x.BillingTest"]))
        #expect(!gradle.matches(["./gradlew", "test", "--tests=com.x.BillingTest", "--debug-jvm"]))
        #expect(!gradle.matches(["./gradlew", "test", "--tests=Other"]))
    }

    @Test func programIsComparedAsTypedNotResolved() throws {
        let gradle = try pattern("./gradlew bootRun")
        #expect(!gradle.matches(["/tmp/evil/gradlew", "bootRun"]))
        #expect(!gradle.matches(["gradlew", "bootRun"]))
        #expect(gradle.matches(["./gradlew", "bootRun"]))
    }

    @Test func quotedStarAtTheEndMatchesOnlyOneArgument() throws {
        let quoted = try pattern("run '*'")
        #expect(!quoted.matchesRest)
        #expect(quoted.matches(["run", "a"]))
        #expect(!quoted.matches(["run", "a", "b"]))
    }

    @Test func malformedPatternsAreRefused() {
        #expect(throws: CommandPattern.ParseError.empty) { try CommandPattern.parse("   ") }
        #expect(throws: CommandPattern.ParseError.unterminatedQuote("\"")) { try CommandPattern.parse("echo \"hi") }
        #expect(throws: CommandPattern.ParseError.controlCharacter) { try CommandPattern.parse("echo\nrm") }
    }
}
