import BrokerProtocol
import Foundation
import Synchronization
import Testing

@testable import Broker

@Suite struct TerminalPrompterTests {
    private func summary(_ id: String) -> ApprovalSummary {
        ApprovalSummary(approvalId: id, host: "remote-devbox-1", remoteUser: "alex", profile: "billing-dev",
                        cwd: "/home/alex/work/billing", argv: ["pnpm", "dev"], secretNames: ["DB_URL"], agent: false,
                        waiting: 1, deadline: 0)
    }

    private func read(_ pipe: Pipe, until marker: String) -> String {
        var text = ""
        while !text.contains(marker) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        return text
    }

    @Test func promptShowsTheRequestAndALineAnswersIt() throws {
        let input = Pipe()
        let output = Pipe()
        let decisions = Mutex<[String]>([])
        let prompter = TerminalPrompter(input: input.fileHandleForReading, output: output.fileHandleForWriting) {
            id, choice in
            decisions.withLock { $0.append("\(id) \(choice.rawValue)") }
            return true
        }
        prompter.announce(summary("ap-1"))
        prompter.announce(summary("ap-2"))
        let shown = read(output, until: "[d]eny: ")
        #expect(shown.contains("remote-devbox-1 requests profile billing-dev"))
        #expect(shown.contains("Command:     pnpm dev"))
        #expect(!shown.contains("ap-2"))
        input.fileHandleForWriting.write(Data("maybe\n1\n".utf8))
        _ = read(output, until: "Please answer")
        for _ in 0..<100 where decisions.withLock({ $0.isEmpty }) { Thread.sleep(forTimeInterval: 0.02) }
        #expect(decisions.withLock { $0 } == ["ap-1 1h"])
        prompter.resolved("ap-1", outcome: .approved(.oneHour))
        let next = read(output, until: "ap-2")
        #expect(next.contains("approved (1h)"))
        input.fileHandleForWriting.write(Data("d\n".utf8))
        for _ in 0..<100 where decisions.withLock({ $0.count < 2 }) { Thread.sleep(forTimeInterval: 0.02) }
        #expect(decisions.withLock { $0 } == ["ap-1 1h", "ap-2 deny"])
        try input.fileHandleForWriting.close()
    }
}
