import Testing

@testable import AgentboxCore

@Suite struct TextTableTests {
    @Test func headerAndRowsShareColumnsAndTheLastColumnIsNotPadded() {
        var table = TextTable(header: ["LEASE", "STATE", "COMMAND"])
        table.append(["ls-1", "active", "npm test"])
        table.append(["ls-longer-id", "expired", "make"])
        #expect(
            table.text == """
                LEASE         STATE    COMMAND
                ls-1          active   npm test
                ls-longer-id  expired  make

                """)
    }

    @Test func missingCellsAreEmptyAndExtraCellsDropped() {
        var table = TextTable(header: ["A", "B", "C"])
        table.append(["1"])
        table.append(["1", "2", "3", "4"])
        #expect(table.text == "A  B  C\n1\n1  2  3\n")
    }

    @Test func headerAloneWhenThereAreNoRows() {
        #expect(TextTable(header: ["ID", "NAME"]).text == "ID  NAME\n")
    }
}
