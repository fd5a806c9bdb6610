import BrokerProtocol
import Foundation

/// Prompts on the broker's own terminal: one pending approval at a time, answered by a line on
/// stdin (`o` once, `1` one hour, `4` four hours, `d` deny).
final class TerminalPrompter: ApprovalPrompter, @unchecked Sendable {
    private let lock = NSLock()
    private var queue: [ApprovalSummary] = []
    private var shown: String?
    private let decide: @Sendable (String, ApprovalChoice) -> Bool
    private let output = FileHandle.standardError

    init(decide: @escaping @Sendable (String, ApprovalChoice) -> Bool) {
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
        output.write(Data(text.utf8))
    }

    private func readAnswers() {
        while let line = readLine(strippingNewline: true) {
            let answer = line.trimmingCharacters(in: .whitespaces).lowercased()
            lock.lock()
            let current = shown
            lock.unlock()
            guard let current else { continue }
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
                continue
            }
            if !decide(current, choice) { write("secret-broker: \(current) was already decided\n") }
        }
    }
}
