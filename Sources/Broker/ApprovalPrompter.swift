import BrokerProtocol

/// Shows pending approvals to the developer (the broker's terminal, or nothing when it has none;
/// `secret-broker pending` always works).
protocol ApprovalPrompter: Sendable {
    func announce(_ approval: ApprovalSummary)
    func resolved(_ approvalId: String, outcome: ApprovalRecord.Outcome)
}

struct SilentPrompter: ApprovalPrompter {
    func announce(_ approval: ApprovalSummary) {}
    func resolved(_ approvalId: String, outcome: ApprovalRecord.Outcome) {}
}

/// The text of an approval prompt: concrete context, names never values.
func approvalPromptText(_ approval: ApprovalSummary) -> String {
    var lines = [
        "\(approval.host) requests profile \(approval.profile)\(approval.agent ? " (agent session)" : "")",
        "  Remote user: \(approval.remoteUser)",
        "  Path:        \(approval.cwd)",
        "  Command:     \(approval.argv.map(shellQuotedForDisplay).joined(separator: " "))",
        "  Secrets:     \(approval.secretNames.isEmpty ? "(none)" : approval.secretNames.joined(separator: ", "))",
    ]
    lines.append("  Approval id: \(approval.approvalId)")
    return lines.joined(separator: "\n")
}

/// Quotes an argument for display only (never executed).
func shellQuotedForDisplay(_ argument: String) -> String {
    let plain = argument.unicodeScalars.allSatisfy {
        ($0.value >= 0x30 && $0.value <= 0x39) || ($0.value >= 0x41 && $0.value <= 0x5a)
            || ($0.value >= 0x61 && $0.value <= 0x7a) || "-_./=:@,+%".unicodeScalars.contains($0)
    }
    if plain && !argument.isEmpty { return argument }
    let escaped = argument.unicodeScalars.map { scalar -> String in
        if scalar == "'" { return "'\\''" }
        if scalar.value < 0x20 || scalar.value == 0x7f { return "\\x" + String(scalar.value, radix: 16) }
        return String(scalar)
    }.joined()
    return "'" + escaped + "'"
}
