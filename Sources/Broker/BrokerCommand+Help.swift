/// `secret-broker COMMAND --help`: each command's own usage and options.
extension BrokerCommand {
    /// The usage of one command, or nil for a name that is none of them.
    public static func usage(of command: String) -> String? {
        switch command {
        case "serve": return serveUsage
        case "pending": return pendingUsage
        case "approve": return approveUsage
        case "deny": return denyUsage
        case "leases": return leasesUsage
        case "revoke": return revokeUsage
        case "sessions": return sessionsUsage
        case "reload": return reloadUsage
        case "audit": return auditUsage
        case "policy": return policyUsage
        case "explain": return explainUsage
        default: return nil
        }
    }

    /// The commands that have a usage of their own, in the order of the overall usage.
    public static let commands = [
        "serve", "pending", "approve", "deny", "leases", "revoke", "sessions", "reload", "audit", "policy", "explain",
    ]

    static let socketOption = """
          --socket PATH   the broker's control socket (default:
                          $XDG_RUNTIME_DIR/secret-broker/control.sock, or $SECRET_BROKER_SOCKET)
        """

    /// The exit statuses of a call to the running broker.
    static let controlExitStatus = "0 success; 1 the broker refused the call; 64 usage error; 69 broker unreachable."

    static let serveUsage = """
        usage: secret-broker serve [--policy FILE] [--socket PATH] [--audit-log FILE] [--no-prompt]
                                   [--upstream-ca FILE]

        Runs the broker in the foreground: loads the policy, opens the control socket, reads vaults
        for the requests the policy allows, and prompts on this terminal for approvals (when it is
        the terminal's foreground job). SIGHUP reloads the policy; SIGINT or SIGTERM stops it.

          --policy FILE       the policy (default: $XDG_CONFIG_HOME/secret-broker/policy.yaml)
          --socket PATH       the control socket to open
                              (default: $XDG_RUNTIME_DIR/secret-broker/control.sock)
          --audit-log FILE    the audit log (default: $XDG_STATE_HOME/secret-broker/audit.log)
          --no-prompt         no approval prompt on the terminal; answer with secret-broker
                              approve / deny
          --upstream-ca FILE  the CA bundle the credential proxy trusts instead of the system's

        Exit status: 0 stopped by SIGINT or SIGTERM; 1 the broker could not start; 64 usage error;
        65 invalid policy; 78 unsafe policy file permissions.
        """

    static let pendingUsage = """
        usage: secret-broker pending [--json] [--socket PATH]

        Lists the requests waiting for your approval: host, user, profile, path, command, secret
        names, and how long until each times out; never values.

          --json          one JSON array, as the control API answers it
        \(socketOption)

        Exit status: \(controlExitStatus)
        """

    static let approveUsage = """
        usage: secret-broker approve ID [--for once|1h|4h] [--socket PATH]

        Approves the pending request ID (see secret-broker pending).

          --for once      this request only (the default)
          --for 1h, 4h    this request, and for that long identical ones (same host, user,
                          profile, path, command and secret names) without asking
        \(socketOption)

        Exit status: \(controlExitStatus)
        """

    static let denyUsage = """
        usage: secret-broker deny ID [--socket PATH]

        Refuses the pending request ID (see secret-broker pending); the remote command exits 77.

        \(socketOption)

        Exit status: \(controlExitStatus)
        """

    static let leasesUsage = """
        usage: secret-broker leases [--json] [--socket PATH]

        Lists the leases: id, state, host, profile, expiry, secret names and command; never values.

          --json          one JSON array, as the control API answers it
        \(socketOption)

        Exit status: \(controlExitStatus)
        """

    static let revokeUsage = """
        usage: secret-broker revoke LEASE [--socket PATH]

        Ends the lease LEASE now (see secret-broker leases); an agentbox session holding it is
        ended, its processes killed.

        \(socketOption)

        Exit status: \(controlExitStatus)
        """

    static let sessionsUsage = """
        usage: secret-broker sessions [--json] [--socket PATH]

        Lists the devssh sessions: id, login user and host, start time, active leases.

          --json          one JSON array, as the control API answers it
        \(socketOption)

        Exit status: \(controlExitStatus)
        """

    static let reloadUsage = """
        usage: secret-broker reload [--socket PATH]

        Asks the running broker to reload its policy file (as SIGHUP does). An invalid file leaves
        the policy in force, and its errors are shown as FILE:LINE:COLUMN: error: MESSAGE.

        \(socketOption)

        Exit status: 0 reloaded; 1 the broker refused the call; 64 usage error; 65 invalid policy
        (the old one stays in force); 69 broker unreachable; 78 unsafe policy file permissions.
        """

    static let auditUsage = """
        usage: secret-broker audit [--follow] [--json] [--audit-log FILE]

        Shows the audit log: one line per event (names, decisions, reasons; never values).

          --follow, -f      keep showing events as they are written
          --json            the log's own JSON lines
          --audit-log FILE  the log to read (default: $XDG_STATE_HOME/secret-broker/audit.log)

        Exit status: 0; 1 no audit log; 64 usage error.
        """

    static let policyUsage = """
        usage: secret-broker policy check [FILE]

        Validates a policy file (default: $XDG_CONFIG_HOME/secret-broker/policy.yaml) and prints
        its warnings and its profiles, or every error as FILE:LINE:COLUMN: error: MESSAGE.

        Exit status: 0 valid; 64 usage error; 65 invalid policy; 78 unsafe policy file permissions.
        """

    static let explainUsage = """
        usage: secret-broker explain PROFILE --host HOST [--user USER] [--cwd DIR] [--names A,B] [--agent]
                                     [--policy FILE] -- COMMAND...

        Shows what the policy would decide for a request, without reading any vault: the rule and
        secret names, time to live and approval of a grant, or the denial and its rule.

          --host HOST     the host as typed to devssh
          --user USER     the remote login user (default: your user name)
          --cwd DIR       the remote working directory (default: the current directory)
          --names A,B     the names a repository's .secrets.yaml asks for
          --agent         as agentbox start asks (an agent lease)
          --policy FILE   the policy (default: $XDG_CONFIG_HOME/secret-broker/policy.yaml)

        Exit status: 0 granted; 64 usage error; 65 invalid policy; 77 denied; 78 unsafe policy
        file permissions.
        """
}
