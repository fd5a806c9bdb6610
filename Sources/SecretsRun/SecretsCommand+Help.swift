/// `secrets COMMAND --help`: each command's own usage and options.
extension SecretsCommand {
    /// The usage of `run` or `status`, or nil for a name that is neither.
    public static func usage(of command: String) -> String? {
        switch command {
        case "run": return runUsage
        case "status": return statusUsage
        default: return nil
        }
    }

    /// The commands that have a usage of their own.
    public static let commands = ["run", "status"]

    static let environmentHelp = """
        Environment:
          SECRETS_SOCKET           the forwarded broker socket (default:
                                   /run/user/UID/agentbox/broker.sock or ~/.agentbox/run/broker.sock)
          AGENTBOX_SESSION_NONCE   the session nonce devssh handed to this shell
        """

    static let runUsage = """
        usage: secrets run PROFILE [--pristine] [--quiet] -- COMMAND [ARGS...]

        Asks the laptop's secret-broker, through the socket devssh forwarded, for the secrets of
        PROFILE, then replaces itself with COMMAND, the granted secrets in its environment.
        Nothing is written to disk and no shell is involved.

          --pristine   start COMMAND with only PATH, HOME, USER, LOGNAME, SHELL, TERM, LANG,
                       LC_*, TZ, TMPDIR and the granted secrets
          --quiet      no progress messages on stderr (denials are still printed)

        \(environmentHelp)

        A repository request file .secrets.yaml, found upward from the working directory, names
        the secrets the project needs; it is a request, the laptop's policy decides.

        Exit status: COMMAND's own status once it runs; 64 usage error; 65 bad .secrets.yaml;
        69 broker unreachable; 70 broker answer refused; 75 the broker could not read the vault
        (try again once it can); 77 denied; 126 COMMAND not executable; 127 COMMAND not found.
        """

    static let statusUsage = """
        usage: secrets status

        Shows the broker socket this shell uses and whether devssh handed it a session nonce, then
        asks the broker for the session: its id, host, login user and active leases.

        \(environmentHelp)

        Exit status: 0 the broker answered; 64 usage error; 69 broker unreachable; 70 broker
        answer refused; 77 refused (no or wrong session nonce).
        """
}
