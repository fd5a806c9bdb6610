/// A credential format recognised without being registered: AWS access key ids, GitHub, OpenAI,
/// Anthropic, Slack and Stripe tokens, JWTs and PEM private key blocks.
///
/// Each format is a left boundary (the byte before must not be a token character), a prefix of
/// byte classes, and a body. A match is recognised in the matching view (escapes removed), so a
/// colour change inside a token does not hide it. Whitespace is not collapsed in the view: a space
/// in a format (only the PEM header and trailer have one) matches any run of whitespace, as it did
/// when the view collapsed runs.
struct TokenFormat: Sendable {
    enum Shape: Sendable {
        /// Prefix, then at least `minimumBody` body bytes (greedy, up to `maximumLength` in all).
        case simple
        /// `eyJ…` header, `.`, payload, `.`, optional signature; all base64url.
        case jwt
        /// `-----BEGIN … PRIVATE KEY-----` … `-----END … PRIVATE KEY-----`.
        case pem
    }

    let label: String
    let prefix: [ByteClass]
    /// Bytes that may not come right before the token (nil: no boundary rule).
    let notBefore: ByteClass?
    let body: ByteClass
    let minimumBody: Int
    let maximumLength: Int
    /// The body must mix upper case, lower case and digits (random keys do; ordinary words do not).
    let mixedBody: Bool
    let shape: Shape
    /// Where the two anchor byte pairs start, relative to the token's first byte (`anchor` and
    /// `anchor + 1`, both inside the prefix); chosen so that the pairs are rare in ordinary text.
    let anchor: Int

    /// One class per byte of `text`; a space stands for any whitespace byte.
    static func literal(_ text: String) -> [ByteClass] {
        text.utf8.map { byte in
            if byte == 0x20 { return .whitespace }
            var one = ByteClass()
            one.insert(byte)
            return one
        }
    }

    static let all: [TokenFormat] = [
        TokenFormat(
            label: "aws-access-key-id", prefix: [ByteClass("A"), ByteClass("KS"), ByteClass("I"), ByteClass("A")],
            notBefore: .upperDigit, body: .upperDigit, minimumBody: 16, maximumLength: 128, mixedBody: false,
            shape: .simple, anchor: 1),
        TokenFormat(
            label: "github-token", prefix: literal("gh") + [ByteClass("pousr"), ByteClass("_")],
            notBefore: .alphanumericUnderscore, body: .alphanumeric, minimumBody: 30, maximumLength: 255,
            mixedBody: false, shape: .simple, anchor: 1),
        TokenFormat(
            label: "github-token", prefix: literal("github_pat_"), notBefore: .alphanumericUnderscore,
            body: .alphanumericUnderscore, minimumBody: 22, maximumLength: 255, mixedBody: false, shape: .simple,
            anchor: 5),
        // OpenAI (`sk-…`, `sk-proj-…`) and Anthropic (`sk-ant-…`); the label is refined on match.
        TokenFormat(
            label: "openai-key", prefix: literal("sk-"), notBefore: .base64URL, body: .base64URL, minimumBody: 20,
            maximumLength: 512, mixedBody: true, shape: .simple, anchor: 0),
        TokenFormat(
            label: "slack-token", prefix: literal("xox") + [ByteClass("abprs"), ByteClass("-")],
            notBefore: .alphanumericDash, body: .alphanumericDash, minimumBody: 10, maximumLength: 255,
            mixedBody: false, shape: .simple, anchor: 0),
        TokenFormat(
            label: "stripe-key",
            prefix: [ByteClass("sr"), ByteClass("k"), ByteClass("_")] + [ByteClass("lt")] + [ByteClass("ie")]
                + [ByteClass("vs")] + [ByteClass("et")] + [ByteClass("_")],
            notBefore: .alphanumericUnderscore, body: .alphanumeric, minimumBody: 16, maximumLength: 255,
            mixedBody: false, shape: .simple, anchor: 1),
        TokenFormat(
            label: "jwt", prefix: literal("eyJ"), notBefore: .base64URL, body: .base64URL, minimumBody: 10,
            maximumLength: 16384, mixedBody: false, shape: .jwt, anchor: 0),
        TokenFormat(
            label: "private-key", prefix: literal("-----BEGIN "), notBefore: nil,
            body: ByteClass(ranges: "A-Z0-9").union(.whitespace),
            minimumBody: 0, maximumLength: 65536, mixedBody: false, shape: .pem, anchor: 4),
    ]

    /// How long the bytes before a match must stay visible for the boundary test.
    static let lookBehind = 1

    /// The class of the byte at `offset` from the token's start, for offsets from -1 (the byte
    /// before) up to where the anchors need.
    func byteClass(at offset: Int) -> ByteClass {
        if offset < 0 { return notBefore?.inverted ?? ByteClass().inverted }
        if offset < prefix.count { return prefix[offset] }
        return body
    }

    enum Verdict: Equatable {
        case none
        case incomplete
        case match(end: Int, label: String)
    }

    /// Recognises this format starting at view offset `start` in `view[0..<end]` (`view` is indexed
    /// from the window start `base`). `atEnd`: no more bytes will come.
    func recognise(
        _ view: UnsafePointer<UInt8>, base: Int, end: Int, start: Int, atEnd: Bool
    ) -> Verdict {
        @inline(__always) func at(_ offset: Int) -> UInt8 { view[offset - base] }
        if let notBefore, start > base, notBefore.contains(at(start - 1)) { return .none }
        var position = start
        for byteClass in prefix {
            if position == end { return atEnd ? .none : .incomplete }
            if !byteClass.contains(at(position)) { return .none }
            position += 1
        }
        switch shape {
        case .simple:
            return recogniseSimple(at, start: start, position: position, end: end, atEnd: atEnd)
        case .jwt:
            return recogniseJWT(at, start: start, position: position, end: end, atEnd: atEnd)
        case .pem:
            return recognisePEM(at, start: start, position: position, end: end, atEnd: atEnd)
        }
    }

    private func run(
        _ at: (Int) -> UInt8, of byteClass: ByteClass, from position: Int, end: Int, limit: Int
    ) -> (end: Int, reachedEnd: Bool) {
        var position = position
        let stop = min(end, limit)
        while position < stop && byteClass.contains(at(position)) { position += 1 }
        return (position, position == end && position < limit)
    }

    private func recogniseSimple(
        _ at: (Int) -> UInt8, start: Int, position: Int, end: Int, atEnd: Bool
    ) -> Verdict {
        let (stop, reachedEnd) = run(at, of: body, from: position, end: end, limit: start + maximumLength)
        if reachedEnd && !atEnd { return .incomplete }
        guard stop - position >= minimumBody else { return .none }
        if mixedBody {
            var upper = false
            var lower = false
            var digit = false
            for offset in position..<stop {
                switch at(offset) {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): upper = true
                case UInt8(ascii: "a")...UInt8(ascii: "z"): lower = true
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = true
                default: break
                }
            }
            guard upper && lower && digit else { return .none }
        }
        var label = self.label
        if label == "openai-key" && stop - position >= 4 && at(position) == UInt8(ascii: "a")
            && at(position + 1) == UInt8(ascii: "n") && at(position + 2) == UInt8(ascii: "t")
            && at(position + 3) == UInt8(ascii: "-")
        {
            label = "anthropic-key"
        }
        return .match(end: stop, label: label)
    }

    private func recogniseJWT(
        _ at: (Int) -> UInt8, start: Int, position: Int, end: Int, atEnd: Bool
    ) -> Verdict {
        let limit = start + maximumLength
        var (stop, reachedEnd) = run(at, of: body, from: position, end: end, limit: limit)
        if reachedEnd && !atEnd { return .incomplete }
        guard stop - position >= minimumBody, stop < end, at(stop) == UInt8(ascii: ".") else { return .none }
        let payload = stop + 1
        (stop, reachedEnd) = run(at, of: body, from: payload, end: end, limit: limit)
        if reachedEnd && !atEnd { return .incomplete }
        guard stop - payload >= minimumBody else { return .none }
        if stop == end || at(stop) != UInt8(ascii: ".") {
            // Header and payload only: still a token worth hiding.
            return .match(end: stop, label: label)
        }
        (stop, reachedEnd) = run(at, of: body, from: stop + 1, end: end, limit: limit)
        if reachedEnd && !atEnd { return .incomplete }
        return .match(end: stop, label: label)
    }

    private static let privateKeyTrailer = Array("PRIVATE KEY-----".utf8)
    private static let endMarker = Array("-----END ".utf8)

    private func recognisePEM(
        _ at: (Int) -> UInt8, start: Int, position: Int, end: Int, atEnd: Bool
    ) -> Verdict {
        // "-----BEGIN " [A-Z0-9 ]{0,40} "PRIVATE KEY-----"
        guard let headerEnd = matchKeyType(at, from: position, end: end) else { return .none }
        if headerEnd < 0 { return atEnd ? .none : .incomplete }
        // Everything up to "-----END " [A-Z0-9 ]* "PRIVATE KEY-----", or to the length cap.
        let limit = start + maximumLength
        var position = headerEnd
        while position < min(end, limit) {
            if at(position) == UInt8(ascii: "-") {
                switch match(at, Self.endMarker, at: position, end: end) {
                case .some(-1):
                    return atEnd ? .match(end: end, label: label) : .incomplete
                case .some(let markerEnd):
                    if let trailerEnd = matchKeyType(at, from: markerEnd, end: end) {
                        if trailerEnd < 0 { return atEnd ? .match(end: end, label: label) : .incomplete }
                        return .match(end: trailerEnd, label: label)
                    }
                case nil:
                    break
                }
            }
            position += 1
        }
        if position >= limit { return .match(end: limit, label: label) }
        // The block is open at the end of the data: hide all of it once nothing more can come.
        return atEnd ? .match(end: end, label: label) : .incomplete
    }

    /// `[A-Z0-9 ]{0,40}PRIVATE KEY-----` from `position`: its end, -1 if the data ends first, nil if
    /// it does not match. A whitespace run counts as one byte of the 40, as one space.
    private func matchKeyType(_ at: (Int) -> UInt8, from position: Int, end: Int) -> Int? {
        var position = position
        var skipped = 0
        while true {
            switch match(at, Self.privateKeyTrailer, at: position, end: end) {
            case .some(-1): return -1
            case .some(let trailerEnd): return trailerEnd
            case nil: break
            }
            guard position < end, body.contains(at(position)) else { return nil }
            if !(isWhitespace(at(position)) && isWhitespace(at(position - 1))) {
                guard skipped < 40 else { return nil }
                skipped += 1
            }
            position += 1
        }
    }

    /// Whether `literal` is at `position`, a space in it matching a whitespace run: the end of the
    /// match, -1 when the data ends inside a possible match (or inside the run), nil when it does
    /// not match.
    private func match(_ at: (Int) -> UInt8, _ literal: [UInt8], at position: Int, end: Int) -> Int? {
        var position = position
        for byte in literal {
            if position == end { return -1 }
            if byte == 0x20 {
                guard isWhitespace(at(position)) else { return nil }
                repeat { position += 1 } while position < end && isWhitespace(at(position))
            } else {
                if at(position) != byte { return nil }
                position += 1
            }
        }
        return position
    }
}
