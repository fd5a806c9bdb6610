import Testing

@testable import AgentboxCore

@Suite struct JSONStringTests {
    @Test func quotesEscapesAndControlCharacters() {
        #expect(JSONString.quote("plain") == "\"plain\"")
        #expect(JSONString.quote("a\"b\\c") == "\"a\\\"b\\\\c\"")
        #expect(JSONString.quote("line\nnext\ttab\r") == "\"line\\nnext\\ttab\\r\"")
        #expect(JSONString.quote("\u{1b}[31m\u{7f}") == "\"\\u001b[31m\\u007f\"")
        #expect(JSONString.quote("ü€") == "\"ü€\"")
    }
}
