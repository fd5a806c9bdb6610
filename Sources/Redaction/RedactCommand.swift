import AgentboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#else
    #error("unsupported platform")
#endif

/// The core of `agentbox redact` (and `agentbox-redact`): redact files or standard input to
/// standard output.
///
/// ```
/// agentbox-redact [--secret-file FILE]... [--secret-value-file FILE]... [--no-token-formats]
///                 [--min-length N] [FILE...]
/// ```
/// - `--secret-file FILE`: one value per line (a trailing CR is dropped, empty lines are skipped);
///   the markers say `[REDACTED]`.
/// - `--secret-value-file FILE`: the whole file is one value (a multi-line key, a JSON document;
///   surrounding whitespace trimmed); the marker is named after the file (`[REDACTED:db-password]`
///   for `db-password` or `db-password.txt`).
/// - FILE operands are redacted one after the other (`-` is standard input); with none, standard
///   input. Each file is a stream of its own, flushed at its end.
///
/// Warnings (values too short to register, values that look like words) go to standard error.
public enum RedactCommand {
    public static let usage =
        "usage: agentbox-redact [--secret-file FILE]... [--secret-value-file FILE]... [--no-token-formats] "
        + "[--min-length N] [FILE...]"

    /// Runs the command; `input`, `output` and `errors` are file descriptors. `extraSecrets` are
    /// registered besides those of the options (`agentbox redact --from-session`).
    public static func run(_ arguments: [String], extraSecrets: [RedactionSecret] = [], input: Int32 = 0,
                           output: Int32 = 1, errors: Int32 = 2) -> ExitCode {
        var secrets: [RedactionSecret] = extraSecrets
        var options = RedactionOptions()
        var files: [String] = []
        if arguments.contains("--help") || arguments.contains("-h") {
            say(usage + "\n", to: output)
            return .success
        }
        do {
            var parser = CommandLineArguments(arguments)
            while let path = try parser.option("--secret-file") {
                for line in try FileBytes.read(path, limit: 16 << 20).split(separator: 0x0A) {
                    var value = Array(line)
                    if value.last == 0x0D { value.removeLast() }
                    if !value.isEmpty { secrets.append(RedactionSecret(value: value)) }
                }
            }
            while let path = try parser.option("--secret-value-file") {
                let name = String(path.split(separator: "/").last ?? "").split(separator: ".").first.map(String.init)
                secrets.append(RedactionSecret(name: name, value: try FileBytes.read(path, limit: 16 << 20)))
            }
            if parser.flag("--no-token-formats") { options.knownTokenFormats = false }
            if let text = try parser.option("--min-length") {
                guard let value = Int(text), value >= 5 else {
                    throw UsageError("--min-length must be a number, at least 5")
                }
                options.minimumLength = value
            }
            while let operand = parser.operand() { files.append(operand) }
            try parser.finish()
        } catch let error as UsageError {
            say("agentbox-redact: \(error.message)\n\(usage)\n", to: errors)
            return .usage
        } catch {
            say("agentbox-redact: \(error)\n", to: errors)
            return .failure
        }

        let redactor = Redactor(secrets: secrets, options: options)
        for warning in redactor.warnings { say("agentbox-redact: \(warning)\n", to: errors) }
        for file in files.isEmpty ? ["-"] : files {
            let descriptor = file == "-" ? input : open(file, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                say("agentbox-redact: \(SystemError("open \(file)"))\n", to: errors)
                return .failure
            }
            defer { if file != "-" { close(descriptor) } }
            do {
                try redact(from: descriptor, to: output, with: redactor)
            } catch {
                say("agentbox-redact: \(file): \(error)\n", to: errors)
                return .osError
            }
        }
        return .success
    }

    /// Streams `source` through a fresh redactor stream into `target`.
    public static func redact(from source: Int32, to target: Int32, with redactor: Redactor) throws(SystemError) {
        let stream = redactor.makeStream()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var out: [UInt8] = []
        out.reserveCapacity(1 << 17)
        while true {
            let count = try valueOrErrno("read") {
                buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            }
            if count == 0 { break }
            out.removeAll(keepingCapacity: true)
            buffer.withUnsafeBytes { stream.write(UnsafeRawBufferPointer(rebasing: $0[0..<count]), into: &out) }
            try writeAll(out, to: target)
        }
        out.removeAll(keepingCapacity: true)
        stream.flush(into: &out)
        try writeAll(out, to: target)
    }

    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let written = try valueOrErrno("write") {
                bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            }
            offset += written
        }
    }

    static func say(_ message: String, to descriptor: Int32) {
        try? writeAll(Array(message.utf8), to: descriptor)
    }
}
