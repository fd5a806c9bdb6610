import Testing

@testable import AgentboxCore

@Suite struct DurationTextTests {
    @Test(
        arguments: [
            ("30s", 30), ("5m", 300), ("4h", 14_400), ("2d", 172_800), ("1h30m", 5_400), ("1d2h3m4s", 93_784),
            ("90m", 5_400), ("007s", 7),
        ] as [(String, Int64)])
    func parsesUnitsAndCombinations(text: String, seconds: Int64) throws {
        #expect(try DurationText.parse(text) == .seconds(seconds))
    }

    @Test func refusesEmptyZeroAndNegative() {
        #expect(throws: DurationTextError.empty) { try DurationText.parse("") }
        #expect(throws: DurationTextError.zero) { try DurationText.parse("0s") }
        #expect(throws: DurationTextError.zero) { try DurationText.parse("0h0m") }
        #expect(throws: DurationTextError.negative) { try DurationText.parse("-5m") }
    }

    @Test func refusesUnknownUnitsAndBareNumbers() {
        #expect(throws: DurationTextError.unknownUnit("w")) { try DurationText.parse("2w") }
        #expect(throws: DurationTextError.unknownUnit("ms")) { try DurationText.parse("5ms") }
        #expect(throws: DurationTextError.missingUnit("30")) { try DurationText.parse("30") }
        #expect(throws: DurationTextError.missingNumber("h")) { try DurationText.parse("h") }
        #expect(throws: DurationTextError.missingNumber(" 4h")) { try DurationText.parse(" 4h") }
        #expect(throws: DurationTextError.missingNumber("1.5h")) { try DurationText.parse("1.5h") }
    }

    @Test func refusesRepeatedOrReorderedUnits() {
        #expect(throws: DurationTextError.unitOutOfOrder("30m1h")) { try DurationText.parse("30m1h") }
        #expect(throws: DurationTextError.unitOutOfOrder("1h1h")) { try DurationText.parse("1h1h") }
    }

    @Test func hugeDurationOverflowsInsteadOfWrappingToSomethingShort() {
        #expect(throws: DurationTextError.overflow("99999999999999999999s")) {
            try DurationText.parse("99999999999999999999s")
        }
        #expect(throws: DurationTextError.overflow("9999999999999999d")) { try DurationText.parse("9999999999999999d") }
    }

    @Test func formatsTheWayParseReads() throws {
        #expect(DurationText.format(.seconds(5_400)) == "1h30m")
        #expect(DurationText.format(.seconds(86_400)) == "1d")
        #expect(DurationText.format(.seconds(45)) == "45s")
        #expect(DurationText.format(.zero) == "0s")
        #expect(DurationText.format(.milliseconds(1_500)) == "1s")
        for text in ["1h30m", "1d2h3m4s", "2m", "4h"] {
            #expect(DurationText.format(try DurationText.parse(text)) == text)
        }
    }
}
