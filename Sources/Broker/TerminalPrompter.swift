import BrokerProtocol
import Foundation

/// Prompts on the broker's own terminal: one pending approval at a time, answered by a line on
/// stdin (`o` once, `1` one hour, `4` four hours, `d` deny).
final class TerminalPrompter: ApprovalPrompter, @unchecked Sendable {
    private let lock = NSLock()
    private var queue: [ApprovalSummary] = []
    private var shown: String?
    private let decide: @Sendable (String, ApprovalChoice) -> Bool
    private let input: FileHandle
    /// `resolved` is called with the broker's state lock held: a terminal that takes no output
    /// (^S, a stuck pager) must block only the output's own thread, never the broker.
    private let output: TerminalOutput

    init(input: FileHandle = .standardInput, output: FileHandle = .standardError,
         decide: @escaping @Sendable (String, ApprovalChoice) -> Bool) {
        self.input = input
        self.output = TerminalOutput(output)
        self.decide = decide
        let thread = Thread { [unowned self] in self.readAnswers() }
        thread.name = "approval-prompt"
        thread.start()
    }

    func announce(_ approval: ApprovalSummary) {
        lock.lock()
        queue.append(approval)
        let showNow = shown == nil
        if showNow { shown = approval.approvalId }
        lock.unlock()
        if showNow { show(approval) }
    }

    func resolved(_ approvalId: String, outcome: ApprovalRecord.Outcome) {
        lock.lock()
        queue.removeAll { $0.approvalId == approvalId }
        var next: ApprovalSummary?
        if shown == approvalId {
            shown = queue.first?.approvalId
            next = queue.first
        }
        lock.unlock()
        let verdict: String
        switch outcome {
        case .approved(let choice): verdict = "approved (\(choice.rawValue))"
        case .denied(let code, _): verdict = "denied (\(code))"
        }
        write("secret-broker: \(approvalId) \(verdict)\n")
        if let next { show(next) }
    }

    private func show(_ approval: ApprovalSummary) {
        write("\n" + approvalPromptText(approval) + "\nAllow? [o]nce / [1] hour / [4] hours / [d]eny: ")
    }

    private func write(_ text: String) {
        output.write(text)
    }

    private func readAnswers() {
        var pending = Data()
        while true {
            let chunk = input.availableData
            if chunk.isEmpty { return }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending = Data(pending[(newline + 1)...])
                answer(line)
            }
        }
    }

    private func answer(_ line: String) {
        do {
            let answer = line.trimmingCharacters(in: .whitespaces).lowercased()
            lock.lock()
            let current = shown
            lock.unlock()
            guard let current else { return }
            let choice: ApprovalChoice?
            switch answer {
            case "o", "once": choice = .once
            case "1", "1h": choice = .oneHour
            case "4", "4h": choice = .fourHours
            case "d", "deny", "n", "no": choice = .deny
            default: choice = nil
            }
            guard let choice else {
                write("Please answer o, 1, 4 or d: ")
                return
            }
            if !decide(current, choice) { write("secret-broker: \(current) was already decided\n") }
        }
    }
}

/// Text for a terminal, queued without blocking and written in order by a thread of its own
/// (which keeps this object alive).
final class TerminalOutput: @unchecked Sendable {
    private let condition = NSCondition()
    private var unwritten: [String] = []

    init(_ handle: FileHandle) {
        let thread = Thread { [self] in self.run(handle) }
        thread.name = "terminal-output"
        thread.start()
    }

    func write(_ text: String) {
        condition.lock()
        unwritten.append(text)
        condition.signal()
        condition.unlock()
    }

    private func run(_ handle: FileHandle) {
        while true {
            condition.lock()
            while unwritten.isEmpty { condition.wait() }
            let text = unwritten.joined()
            unwritten.removeAll()
            condition.unlock()
            handle.write(Data(text.utf8))
        }
    }
}
