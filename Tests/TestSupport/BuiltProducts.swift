import AgentboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// The package's executables as built next to the running test binary
/// (`.build/<triple>/debug/secret-broker`, `devssh`, `secrets`), found through `/proc/self/exe`.
public enum BuiltProducts {
    /// The directory the test binary was linked into.
    public static func directory() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { throw FixtureError("readlink /proc/self/exe: \(SystemError("readlink"))") }
        let executable = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // The test binary is either `<dir>/agentboxPackageTests.xctest` (Linux) or inside a bundle.
        var directory = FileSafety.parent(of: executable)
        while directory != "/" {
            if isExecutable(directory + "/secret-broker") { return directory }
            directory = FileSafety.parent(of: directory)
        }
        throw FixtureError("no built secret-broker next to \(executable); run swift build --build-tests first")
    }

    /// The absolute path of the built executable `name`.
    public static func path(_ name: String) throws -> String {
        let path = try directory() + "/" + name
        guard isExecutable(path) else { throw FixtureError("\(path) is not built; run swift build --build-tests") }
        return path
    }

    /// Copies the built executable `name` into `directory` (mode 0755) and returns the copy's
    /// path: for running it as another user when the build directory is not traversable for them.
    /// A child another thread spawns while the copy is written inherits the write descriptor until
    /// its own exec, so the first exec of the copy can briefly fail with ETXTBSY; retry it.
    public static func copy(_ name: String, into directory: String) throws -> String {
        guard let bytes = FileIO.read(try path(name)) else { throw FixtureError("cannot read the built \(name)") }
        let target = directory + "/" + name
        do {
            try FileIO.write(target, bytes, mode: 0o755)
        } catch {
            throw FixtureError("cannot copy \(name) to \(target): \(error)")
        }
        return target
    }

    private static func isExecutable(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && access(path, X_OK) == 0
    }
}
