/// Why a YAML source was refused, with where.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// libyaml could not read or parse the text (its own problem text is in `message`).
        case syntax
        /// An alias (`*name`): refused, see `YAMLDocument`.
        case aliasNotAllowed
        /// An anchor (`&name`): refused together with aliases.
        case anchorNotAllowed
        /// An explicit tag (`!!str`, `!custom`).
        case tagNotAllowed
        /// More than one document (`---`) in the stream.
        case multipleDocuments
        /// No document at all (an empty file or only comments).
        case emptyStream
        /// Nesting deeper than `YAMLDocument.maximumDepth`.
        case tooDeep
    }

    public let code: Code
    public let fileName: String
    public let mark: SourceMark
    public let message: String

    public init(_ code: Code, fileName: String, mark: SourceMark, message: String) {
        self.code = code
        self.fileName = fileName
        self.mark = mark
        self.message = message
    }

    /// `file:line:column: message`
    public var description: String { "\(fileName):\(mark.line):\(mark.column): \(message)" }
}
