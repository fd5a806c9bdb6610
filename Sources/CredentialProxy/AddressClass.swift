/// Which addresses an upstream may resolve to. The proxy checks the address libcurl is about to
/// connect to (not just the name), so DNS answers cannot point it at the laptop's own network.
public enum AddressClass {
    /// Whether an IPv4 address (4 bytes, network order) is private, loopback, link-local or
    /// otherwise not a public unicast address.
    public static func isNonPublicIPv4(_ a: [UInt8]) -> Bool {
        guard a.count == 4 else { return true }
        switch (a[0], a[1]) {
        case (0, _), (10, _), (127, _): return true
        case (100, 64...127): return true  // carrier-grade NAT
        case (169, 254): return true  // link-local, cloud metadata
        case (172, 16...31): return true
        case (192, 168): return true
        case (192, 0) where a[2] == 0 || a[2] == 2: return true
        case (198, 18...19): return true
        case (198, 51) where a[2] == 100: return true
        case (203, 0) where a[2] == 113: return true
        case (224...255, _): return true  // multicast, reserved, broadcast
        default: return false
        }
    }

    /// The same for an IPv6 address (16 bytes); IPv4-mapped, IPv4-compatible, NAT64 and 6to4
    /// forms are judged as the IPv4 address they carry.
    public static func isNonPublicIPv6(_ a: [UInt8]) -> Bool {
        guard a.count == 16 else { return true }
        if a[0..<10].allSatisfy({ $0 == 0 }) && ((a[10] == 0xFF && a[11] == 0xFF) || (a[10] == 0 && a[11] == 0)) {
            if a[10] == 0 && a[12..<16].allSatisfy({ $0 == 0 }) { return true }  // :: and ::1 ranges
            return isNonPublicIPv4(Array(a[12..<16]))
        }
        if a[0..<8].allSatisfy({ $0 == 0 }) && a[8] == 0xFF && a[9] == 0xFF && a[10] == 0 && a[11] == 0 {
            return isNonPublicIPv4(Array(a[12..<16]))  // ::ffff:0:a.b.c.d, IPv4-translated (SIIT)
        }
        if a[0] == 0 && a[1] == 0x64 && a[2] == 0xFF && a[3] == 0x9B {
            // 64:ff9b::/96 (NAT64's well-known prefix) carries the IPv4 address it translates to;
            // 64:ff9b:1::/48 is for local translation, with the IPv4 address where the site put it.
            if a[4..<12].allSatisfy({ $0 == 0 }) { return isNonPublicIPv4(Array(a[12..<16])) }
            return true
        }
        if a[0] == 0x01 && a[1..<8].allSatisfy({ $0 == 0 }) { return true }  // 100::/64 discard-only
        if a[0] == 0x20 && a[1] == 0x01 && a[2] & 0xFE == 0 { return true }  // 2001::/23: Teredo, ORCHID, benchmarking
        if a[0] == 0xFE && (a[1] & 0xC0) == 0x80 { return true }  // fe80::/10 link-local
        if a[0] == 0xFE && (a[1] & 0xC0) == 0xC0 { return true }  // fec0::/10 site-local
        if (a[0] & 0xFE) == 0xFC { return true }  // fc00::/7 unique local
        if a[0] == 0xFF { return true }  // multicast
        if a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8 { return true }  // documentation
        if a[0] == 0x20 && a[1] == 0x02 { return isNonPublicIPv4(Array(a[2..<6])) }  // 6to4
        return false
    }
}
