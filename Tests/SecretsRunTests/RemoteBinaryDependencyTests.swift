import AgentboxCore
import Testing
import TestSupport

/// `secrets run` and `agentbox start` start before every command and session on the remote box;
/// their start-up is measured against bwrap. Foundation, libdispatch and the Concurrency runtime
/// (pulled in by `ContinuousClock`, `Task`, `async`) each cost every start their initialisation
/// and relocations, so the modules those binaries are made of use none of them.
@Suite struct RemoteBinaryDependencyTests {
    static let remoteModules = [
        "Agentbox", "AgentboxCore", "BrokerControl", "BrokerProtocol", "DevSSH", "Policy", "Redaction", "Sandbox",
        "SecretsRun", "UnixHTTPClient", "Vaults", "YAMLDocument",
    ]
    static let forbidden = [
        "import Foundation", "import FoundationEssentials", "import Dispatch", "ContinuousClock", "SuspendingClock",
        "Task {", "Task.sleep", " async ", " await ",
    ]

    static var sourcesDirectory: String {
        var directory = FileSafety.parent(of: #filePath)
        while directory != "/" && FileIO.directoryEntries(directory + "/Sources").isEmpty {
            directory = FileSafety.parent(of: directory)
        }
        return directory + "/Sources"
    }

    @Test(arguments: remoteModules)
    func moduleUsesNeitherFoundationNorDispatchNorConcurrency(module: String) throws {
        let directory = Self.sourcesDirectory + "/" + module
        let files = FileIO.directoryEntries(directory).filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty, "no sources in \(directory)")
        for file in files {
            let lines = FileIO.readText(directory + "/" + file).split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() where !line.trimmingPrefix(while: \.isWhitespace).hasPrefix("//") {
                for word in Self.forbidden where line.contains(word) {
                    Issue.record("\(module)/\(file):\(number + 1) uses \(word): \(line)")
                }
            }
        }
    }

    @Test(arguments: ["agentbox", "secrets", "devssh"])
    func builtBinaryNeedsNoFoundationOrDispatchLibrary(name: String) throws {
        let output = try ChildProcess.run(
            executable: "/usr/bin/readelf", arguments: ["-d", try BuiltProducts.path(name)], environment: [:],
            timeout: .seconds(30))
        #expect(output.status.isSuccess)
        let needed = output.standardOutputText.split(separator: "\n").filter { $0.contains("(NEEDED)") }
        #expect(!needed.isEmpty)
        for line in needed {
            #expect(!line.contains("Foundation") && !line.contains("dispatch"), "\(name) needs \(line)")
        }
    }
}
