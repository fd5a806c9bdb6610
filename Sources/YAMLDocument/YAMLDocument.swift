import CYAML

/// Reads one YAML document into a `YAMLNode` tree, through libyaml's event parser.
///
/// Deliberately smaller than YAML: the files it reads (policies, request files) are
/// configuration that carries authority, so every construct that makes a value mean something
/// other than what is written at its place is refused with an error:
///
/// - aliases and anchors: an alias copies a node from elsewhere, which makes "the line of this
///   rule" ambiguous, and nested aliases expand exponentially (the billion-laughs attack);
///   nothing in a policy needs them;
/// - explicit tags (`!!str`, `!foo`): the policy reader does its own typing;
/// - a second document in the stream; and nesting deeper than `maximumDepth`.
public enum YAMLDocument {
    /// The deepest nesting of sequences and mappings accepted.
    public static let maximumDepth = 64

    /// Parses `bytes` (UTF-8) as exactly one YAML document (yaml_parser_parse).
    /// `fileName` is only used in error messages.
    public static func parse(bytes: [UInt8], fileName: String) throws(YAMLError) -> YAMLNode {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLError(.syntax, fileName: fileName, mark: SourceMark(line: 1, column: 1), message: "out of memory")
        }
        defer { yaml_parser_delete(&parser) }
        // libyaml keeps a pointer to the input: the buffer must outlive every parse call.
        let result: Result<YAMLNode, YAMLError> = bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = TreeBuilder(fileName: fileName, bytes: buffer)
            do throws(YAMLError) {
                return .success(try builder.run(&parser))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// Turns the event stream into a tree with an explicit stack (no recursion on input depth).
private struct TreeBuilder {
    enum Frame {
        case sequence(SourceMark, [YAMLNode])
        case mapping(SourceMark, [YAMLPair], pendingKey: YAMLNode?)
    }

    let fileName: String
    let bytes: UnsafeBufferPointer<UInt8>
    var stack: [Frame] = []
    var root: YAMLNode?
    var documents = 0

    init(fileName: String, bytes: UnsafeBufferPointer<UInt8>) {
        self.fileName = fileName
        self.bytes = bytes
    }

    mutating func run(_ parser: inout yaml_parser_t) throws(YAMLError) -> YAMLNode {
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { throw syntaxError(parser) }
            defer { yaml_event_delete(&event) }
            let mark = SourceMark(event.start_mark)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                guard let root else {
                    throw YAMLError(
                        .emptyStream, fileName: fileName, mark: mark, message: "the file holds no YAML document")
                }
                return root
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw YAMLError(
                        .multipleDocuments, fileName: fileName, mark: mark,
                        message:
                            "a second YAML document starts here; the file must hold exactly one (remove the extra '---')"
                    )
                }
            case YAML_ALIAS_EVENT:
                let name = text(event.data.alias.anchor) ?? ""
                throw YAMLError(
                    .aliasNotAllowed, fileName: fileName, mark: mark,
                    message: "alias *\(name) is not supported: write the value out in full")
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                try refuseAnchorAndTag(anchor: scalar.anchor, tag: scalar.tag, mark: mark)
                let value = String(
                    decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                let style: ScalarStyle = scalar.style == YAML_PLAIN_SCALAR_STYLE ? .plain : .quoted
                try add(YAMLNode(.scalar(value, style), mark: mark))
            case YAML_SEQUENCE_START_EVENT:
                try refuseAnchorAndTag(
                    anchor: event.data.sequence_start.anchor, tag: event.data.sequence_start.tag, mark: mark)
                try push(.sequence(mark, []), mark: mark)
            case YAML_MAPPING_START_EVENT:
                try refuseAnchorAndTag(
                    anchor: event.data.mapping_start.anchor, tag: event.data.mapping_start.tag, mark: mark)
                try push(.mapping(mark, [], pendingKey: nil), mark: mark)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                switch stack.removeLast() {
                case .sequence(let start, let items): try add(YAMLNode(.sequence(items), mark: start))
                case .mapping(let start, let pairs, _): try add(YAMLNode(.mapping(pairs), mark: start))
                }
            default:
                break  // stream start, document end, no event
            }
        }
    }

    private mutating func push(_ frame: Frame, mark: SourceMark) throws(YAMLError) {
        guard stack.count < YAMLDocument.maximumDepth else {
            throw YAMLError(
                .tooDeep, fileName: fileName, mark: mark,
                message: "nesting deeper than \(YAMLDocument.maximumDepth) levels is not supported")
        }
        stack.append(frame)
    }

    private mutating func add(_ node: YAMLNode) throws(YAMLError) {
        guard let top = stack.popLast() else {
            root = node
            return
        }
        switch top {
        case .sequence(let start, var items):
            items.append(node)
            stack.append(.sequence(start, items))
        case .mapping(let start, var pairs, let pendingKey):
            if let key = pendingKey {
                pairs.append(YAMLPair(key: key, value: node))
                stack.append(.mapping(start, pairs, pendingKey: nil))
            } else {
                stack.append(.mapping(start, pairs, pendingKey: node))
            }
        }
    }

    private func refuseAnchorAndTag(
        anchor: UnsafeMutablePointer<yaml_char_t>?, tag: UnsafeMutablePointer<yaml_char_t>?, mark: SourceMark
    ) throws(YAMLError) {
        if let name = text(anchor) {
            throw YAMLError(
                .anchorNotAllowed, fileName: fileName, mark: mark,
                message: "anchor &\(name) is not supported: anchors and aliases are refused (write values out in full)")
        }
        if let tag = text(tag) {
            throw YAMLError(
                .tagNotAllowed, fileName: fileName, mark: mark,
                message: "explicit tag \(tag) is not supported: remove it (quote the value to make it a string)")
        }
    }

    private func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }

    private func syntaxError(_ parser: yaml_parser_t) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        var mark: SourceMark
        var message: String
        if parser.error == YAML_READER_ERROR {
            // Reader errors (bad encoding, control characters) carry a byte offset, not a mark.
            mark = markOfOffset(parser.problem_offset)
            message = problem
            if parser.problem_value >= 0 {
                message += " (value 0x" + String(parser.problem_value, radix: 16) + ")"
            }
        } else {
            mark = SourceMark(parser.problem_mark)
            message = problem
            if let context = parser.context.map({ String(cString: $0) }) {
                let contextMark = SourceMark(parser.context_mark)
                message = "\(problem) (\(context) at \(contextMark.line):\(contextMark.column))"
            }
        }
        if mark.line < 1 { mark = SourceMark(line: 1, column: 1) }
        return YAMLError(.syntax, fileName: fileName, mark: mark, message: message)
    }

    private func markOfOffset(_ offset: Int) -> SourceMark {
        var line = 1
        var column = 1
        for index in 0..<min(offset, bytes.count) {
            if bytes[index] == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if bytes[index] & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourceMark(line: line, column: column)
    }
}

extension SourceMark {
    /// libyaml's 0-based mark, made 1-based.
    init(_ mark: yaml_mark_t) {
        self.init(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }
}
