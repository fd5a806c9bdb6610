import SecretsRun

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(SecretsCommand.main(Array(CommandLine.arguments.dropFirst())))
