/// Rows of text in aligned columns under a header row, for the commands' listings
/// (`secret-broker leases`, `sessions`): each column as wide as its widest cell, two spaces
/// between columns, the last column not padded, no trailing blanks.
public struct TextTable: Sendable {
    public let header: [String]
    public private(set) var rows: [[String]] = []

    public init(header: [String]) {
        self.header = header
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    public mutating func append(_ row: [String]) {
        rows.append((0..<header.count).map { $0 < row.count ? row[$0] : "" })
    }

    /// The header and the rows, one line each, each line ending in a newline.
    public var text: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        var result = ""
        for row in all {
            var line = ""
            for (column, cell) in row.enumerated() {
                if column > 0 { line += "  " }
                line += cell
                if column < row.count - 1 { line += String(repeating: " ", count: widths[column] - cell.count) }
            }
            while line.last == " " { line.removeLast() }
            result += line + "\n"
        }
        return result
    }
}
