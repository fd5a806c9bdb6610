import Agentbox

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(AgentboxCommand.main(Array(CommandLine.arguments.dropFirst())))
