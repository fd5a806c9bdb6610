import Testing

@testable import YAMLDocument

@Suite struct YAMLDocumentTests {
    private func parse(_ text: String) throws(YAMLError) -> YAMLNode {
        try YAMLDocument.parse(bytes: Array(text.utf8), fileName: "test.yaml")
    }

    private func parseError(_ text: String) -> YAMLError? {
        parseError(bytes: Array(text.utf8))
    }

    private func parseError(bytes: [UInt8]) -> YAMLError? {
        do {
            _ = try YAMLDocument.parse(bytes: bytes, fileName: "test.yaml")
            return nil
        } catch {
            return error
        }
    }

    private func pairs(_ node: YAMLNode) -> [YAMLPair] {
        if case .mapping(let pairs) = node.kind { return pairs }
        Issue.record("not a mapping: \(node)")
        return []
    }

    @Test func buildsMappingsSequencesAndScalarsWithOneBasedMarks() throws {
        let root = try parse("version: 1\nprofiles:\n  a:\n    hosts: [x, \"y\"]\n")
        let top = pairs(root)
        #expect(top.count == 2)
        #expect(top[0].key == YAMLNode(.scalar("version", .plain), mark: SourceMark(line: 1, column: 1)))
        #expect(top[0].value == YAMLNode(.scalar("1", .plain), mark: SourceMark(line: 1, column: 10)))
        #expect(top[1].value.mark == SourceMark(line: 3, column: 3))
        let profile = pairs(pairs(top[1].value)[0].value)
        guard case .sequence(let hosts) = profile[0].value.kind else {
            Issue.record("hosts is not a sequence")
            return
        }
        #expect(profile[0].value.mark == SourceMark(line: 4, column: 12))
        #expect(hosts.map(\.kind) == [.scalar("x", .plain), .scalar("y", .quoted)])
        #expect(hosts[1].mark == SourceMark(line: 4, column: 16))
    }

    @Test func keepsDuplicateKeysInOrderSoTheReaderCanReportThem() throws {
        let top = pairs(try parse("ttl: 1h\nttl: 8h\n"))
        #expect(top.map { $0.value.scalarText } == ["1h", "8h"])
        #expect(top[1].key.mark == SourceMark(line: 2, column: 1))
    }

    @Test func distinguishesPlainFromQuotedAndBlockScalars() throws {
        let top = pairs(try parse("a: true\nb: 'true'\nc: |\n  text\nd: ~\ne:\n"))
        #expect(top[0].value.kind == .scalar("true", .plain))
        #expect(top[1].value.kind == .scalar("true", .quoted))
        #expect(top[2].value.kind == .scalar("text\n", .quoted))
        #expect(top[3].value.isNull)
        #expect(top[4].value.isNull)
        #expect(!top[1].value.isNull)
    }

    @Test func billionLaughsAnchorIsRefusedNotExpanded() throws {
        let text = """
            a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
            b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
            c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]
            """
        let error = try #require(parseError(text))
        #expect(error.code == .anchorNotAllowed)
        #expect(error.description.hasPrefix("test.yaml:1:4: anchor &a is not supported"))
    }

    @Test func aliasIsRefusedWithItsPosition() throws {
        let error = try #require(parseError("a: 1\nb: *x\n"))
        #expect(error.code == .aliasNotAllowed)
        #expect(error.mark == SourceMark(line: 2, column: 4))
    }

    @Test func explicitTagCannotRetypeAValue() throws {
        let error = try #require(parseError("requireApproval: !!bool false\n"))
        #expect(error.code == .tagNotAllowed)
        #expect(error.mark == SourceMark(line: 1, column: 18))
    }

    @Test func secondDocumentCannotSmuggleAnotherPolicy() throws {
        let error = try #require(parseError("version: 1\n---\nversion: 2\n"))
        #expect(error.code == .multipleDocuments)
        #expect(error.mark.line == 2)
    }

    @Test func emptyFileIsAnError() throws {
        #expect(parseError("")?.code == .emptyStream)
        #expect(parseError("# only a comment\n")?.code == .emptyStream)
    }

    @Test func syntaxErrorCarriesFileLineColumnAndLibyamlProblem() throws {
        let error = try #require(parseError("profiles:\n  a: [x, y\n  b: 1\n"))
        #expect(error.code == .syntax)
        #expect(error.description.hasPrefix("test.yaml:"))
        #expect(error.mark.line >= 2)
        #expect(!error.message.isEmpty)

        let tabs = try #require(parseError("a:\n\tb: 1\n"))
        #expect(tabs.code == .syntax)
        #expect(tabs.mark.line == 2)
    }

    @Test func invalidUTF8IsASyntaxErrorWithPosition() throws {
        let error = try #require(parseError(bytes: Array("a: 1\nb: ".utf8) + [0xFF, 0x0A]))
        #expect(error.code == .syntax)
        #expect(error.mark.line == 2)
        #expect(error.description.hasPrefix("test.yaml:2:"))
    }

    @Test func deepNestingIsRefusedBeforeItExhaustsTheStack() throws {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = try #require(parseError(text))
        #expect(error.code == .tooDeep || error.code == .syntax)
    }

    @Test func multiByteTextSurvivesIntact() throws {
        let top = pairs(try parse("name: \"Billing Dev DB — prod ✓\"\n"))
        #expect(top[0].value.scalarText == "Billing Dev DB — prod ✓")
    }
}
