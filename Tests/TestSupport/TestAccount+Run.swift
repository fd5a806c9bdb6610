import AgentboxCore

extension TestAccount {
    /// Runs `executable` as this account (`setpriv` with its uid, gid and no supplementary
    /// groups, `HOME` its home), for checks such as "can the account execute this binary and load
    /// its libraries"; throws `FixtureError` with the tool's stderr when it fails.
    @discardableResult
    public func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(30)) throws
        -> ChildProcess.Output
    {
        var environment = toolEnvironment
        environment["HOME"] = home
        environment["USER"] = name
        environment["LOGNAME"] = name
        return try runTool(
            "/usr/bin/setpriv",
            ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", executable] + arguments,
            environment: environment, timeout: timeout)
    }
}
