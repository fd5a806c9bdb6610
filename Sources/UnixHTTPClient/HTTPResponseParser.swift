/// Parses an HTTP/1.1 response held whole in memory.
enum HTTPResponseParser {
    private static let headerEnd: [UInt8] = [13, 10, 13, 10]

    /// Whether `bytes` already holds a whole response with a Content-Length body.
    static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = find(headerEnd, in: bytes[...]) else { return false }
        guard let length = headers(bytes[..<end])["content-length"].flatMap({ Int($0) }) else { return false }
        return bytes.count - (end + 4) >= length
    }

    static func parse(_ bytes: [UInt8]) throws(HTTPClientError) -> HTTPClientResponse {
        guard let end = find(headerEnd, in: bytes[...]) else { throw .failed(detail: "incomplete response headers") }
        let head = bytes[..<end]
        let statusLine = head.prefix { $0 != 13 }
        let parts = statusLine.split(separator: UInt8(ascii: " "), maxSplits: 2)
        guard parts.count >= 2, parts[0].starts(with: Array("HTTP/1.".utf8)),
            let status = Int(String(decoding: parts[1], as: UTF8.self)), (100...599).contains(status)
        else { throw .failed(detail: "malformed status line") }
        let fields = headers(head)
        var body = Array(bytes[(end + 4)...])
        if fields["transfer-encoding"]?.lowercased() == "chunked" {
            body = try dechunk(body)
        } else if let length = fields["content-length"].flatMap({ Int($0) }) {
            guard body.count >= length else { throw .failed(detail: "response body shorter than its Content-Length") }
            body = Array(body[..<length])
        }
        return HTTPClientResponse(status: status, body: body)
    }

    private static func headers(_ head: ArraySlice<UInt8>) -> [String: String] {
        var result: [String: String] = [:]
        for line in head.split(separator: 10).dropFirst() {
            let text = String(decoding: line.last == 13 ? line.dropLast() : line, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { continue }
            let name = text[..<colon].lowercased()
            result[name] = text[text.index(after: colon)...].trimmingSpaces()
        }
        return result
    }

    private static func dechunk(_ bytes: [UInt8]) throws(HTTPClientError) -> [UInt8] {
        var result: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = find([13, 10], in: bytes[index...]) else { throw .failed(detail: "truncated chunk") }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingSpaces(), radix: 16), size >= 0 else {
                throw .failed(detail: "malformed chunk size")
            }
            index = lineEnd + 2
            if size == 0 { return result }
            guard index + size + 2 <= bytes.count else { throw .failed(detail: "truncated chunk") }
            result.append(contentsOf: bytes[index..<(index + size)])
            index += size + 2
        }
    }

    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
