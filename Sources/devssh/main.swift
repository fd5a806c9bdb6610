import DevSSH

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(DevSSHCommand.main(Array(CommandLine.arguments.dropFirst())))
