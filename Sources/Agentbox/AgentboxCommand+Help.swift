/// `agentbox COMMAND --help`: each command's own usage and options.
extension AgentboxCommand {
    /// The usage of one command (`start`, `sandbox`, `list`, `stop`, `redact`, `doctor`), or nil
    /// for a name that is none of them.
    public static func usage(of command: String) -> String? {
        switch command {
        case "start": return startUsage
        case "sandbox": return sandboxUsage
        case "list": return listUsage
        case "stop": return stopUsage
        case "redact": return redactUsage
        case "doctor": return doctorUsage
        default: return nil
        }
    }

    /// The commands that have a usage of their own, in the order of the overall usage.
    public static let commands = ["start", "sandbox", "list", "stop", "redact", "doctor"]

    static let sandboxOptions = """
          --workdir DIR            the working tree, bound read-write (default: the current
                                   directory); its .git/hooks and .git/config are read-only
          --network MODE           host, proxy-only (loopback only, plus a lease's proxy
                                   endpoints; the default) or none
          --run-as USER            (agentbox running as root) run COMMAND as this unprivileged
                                   account instead of in a user namespace
          --grace SECONDS          from SIGTERM to SIGKILL when the session ends (0 to 60, default 2)
          --max-processes N        at most N processes of the session at once (RLIMIT_NPROC,
                                   counted in its user namespace; default 8192, 0: no limit); a
                                   fork bomb stops there (a root agentbox without --run-as runs
                                   the agent as root, whom the kernel exempts)
          --seccomp-profile FILE   the seccomp profile; else $AGENTBOX_SECCOMP_PROFILE, else
                                   share/agentbox/seccomp-default.txt beside the binary, in
                                   /usr/local/share or /usr/share (without one, agentbox refuses
                                   to start)
          --print-plan             print the sandbox plan (what is bound where) and exit, before
                                   any lease is asked for
          --quiet                  no progress lines
        """

    static let startUsage = """
        usage: agentbox start PROFILE [--workdir DIR] [--network host|proxy-only|none] [--run-as USER]
                              [--grace SECONDS] [--max-processes N] [--seccomp-profile FILE] [--print-plan]
                              [--quiet] [--transcript PATH] [--no-masking] [--keep-file FILE] -- COMMAND [ARGS...]

        Asks the laptop's broker, through the socket devssh forwarded, for an agent lease on
        PROFILE (an `agent: true` profile), runs COMMAND in a sandbox with the lease's environment,
        and ends every process of the session when the lease expires or is revoked, or on
        `agentbox stop`. On a terminal, COMMAND gets a pty of agentbox's own; otherwise stdin
        passes through and stdout/stderr are relayed. Output is redacted (the session's values and
        known token formats) on the terminal and in an asciinema v2 transcript.

        \(sandboxOptions)
          --transcript PATH        write the transcript to PATH (default: kept as
                                   $XDG_STATE_HOME/agentbox/transcripts/ID.cast)
          --no-masking             the terminal shows COMMAND's output unredacted; the transcript
                                   is redacted all the same
          --keep-file FILE         the agent's files kept beside the transcript, one glob a line
                                   (default: $AGENTBOX_KEEP_FILE, else share/agentbox/keep.txt)

        The profile's network: and runAs: win: a looser --network or another --run-as is refused.

        Environment:
          SECRETS_SOCKET           the forwarded broker socket (default:
                                   /run/user/UID/agentbox/broker.sock or ~/.agentbox/run/broker.sock)
          AGENTBOX_SESSION_NONCE   the session nonce devssh handed to this shell

        Exit status: COMMAND's own status once it runs (128+N when killed by signal N; a session
        ended by stop, lease end, revocation or disconnect is never 0); 64 usage error; 69 broker
        unreachable; 70 broker answer refused; 71 a sandbox step failed; 75 the broker could not
        read the vault; 77 denied; 78 refused: the box cannot provide a protection asked for, or
        the working directory would expose too much; 126 COMMAND not executable; 127 COMMAND not
        found.
        """

    static let sandboxUsage = """
        usage: agentbox sandbox [--workdir DIR] [--network ...] [--run-as USER] [--seccomp-profile FILE]
                               [--print-plan] [--quiet] [--grace SECONDS] [--max-processes N]
                               [--transcript PATH] [--no-masking] [--keep-file FILE] -- COMMAND [ARGS...]

        Runs COMMAND in the same sandbox as `agentbox start`, without a lease (no secrets, no
        broker), to check what a box allows.

        \(sandboxOptions)
          --transcript PATH        record an asciinema v2 transcript at PATH (none without it)
          --no-masking             the terminal shows COMMAND's output unredacted
          --keep-file FILE         with --transcript: the files kept beside it, one glob a line

        Exit status: COMMAND's own status (128+N when killed by signal N); 64 usage error; 71 a
        sandbox step failed; 78 refused: the box cannot provide a protection, or the working
        directory would expose too much; 126 COMMAND not executable; 127 COMMAND not found.
        """

    static let listUsage = """
        usage: agentbox list

        Lists this account's live agentbox sessions: id, profile, lease expiry, supervisor pid and
        command; a session whose supervisor is gone is marked (stale).

        Exit status: 0; 64 usage error.
        """

    static let stopUsage = """
        usage: agentbox stop ID

        Ends the session ID (see agentbox list): SIGTERM to all its processes, its grace period,
        then SIGKILL; returns once the session is gone. The session's own agentbox exits 143.

        Exit status: 0 the session ended; 1 no such session; 64 usage error; 71 the session could
        not be signalled or did not end within 10 s.
        """

    static let redactUsage = """
        usage: agentbox redact [--from-session ID] [--secret-file FILE]... [--secret-value-file FILE]...
                               [--no-token-formats] [--min-length N] [FILE...]

        Runs the session redactor over each FILE (`-` or none: standard input) to standard output:
        the values given, plus known token formats.

          --from-session ID        the values of the live session ID, asked over its private
                                   control socket (they exist only while it runs)
          --secret-file FILE       values, one a line; marked [REDACTED]
          --secret-value-file FILE
                                   the whole file is one value; marked [REDACTED:NAME] after the
                                   file's name
          --no-token-formats       only the values given, not the known token formats
          --min-length N           the shortest value redacted (default 6, at least 5); shorter
                                   ones are warned about and left as they are

        Exit status: 0; 1 a FILE cannot be read, or no live session ID; 64 usage error; 71 the
        session ID could not be asked.
        """

    static let doctorUsage = """
        usage: agentbox doctor

        Shows what this kernel offers (user namespaces, hidepid, seccomp, cgroups) and what
        agentbox would do with it.

        Exit status: 0 agentbox can start here; 64 usage error; 78 it would refuse to start.
        """
}
