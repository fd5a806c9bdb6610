import AgentboxCore
import Redaction

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

StandardDescriptors.ensureOpen()
ignoreBrokenPipeSignal()
exit(RedactCommand.run(Array(CommandLine.arguments.dropFirst())).rawValue)
