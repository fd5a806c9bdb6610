import CredentialProxy
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Attacks on the private-address check that runs in CURLOPT_OPENSOCKETFUNCTION.
@Suite struct AddressClassAttackTests {
    /// The bytes of an IPv6 address in text form, as libc parses it.
    func bytes(_ text: String) -> [UInt8] {
        var address = in6_addr()
        #expect(inet_pton(AF_INET6, text, &address) == 1, "\(text)")
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    /// On a DNS64/NAT64 network (IPv6-only Wi-Fi, phone tethering), an A record of 10.0.0.5 is
    /// handed to curl as 64:ff9b::a00:5 (RFC 6052: 00 64 ff 9b, eight zero bytes, the IPv4
    /// address): the NAT64 form of loopback, of the cloud metadata address or of an RFC 1918
    /// address must be refused like the address itself; the local-use prefix 64:ff9b:1::/48
    /// (RFC 8215), Teredo and the discard prefix always.
    @Test(arguments: ["64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:5", "64:ff9b::c0a8:101",
                      "64:ff9b:1::a00:5", "64:ff9b:1::808:808", "::ffff:0:a00:5", "::ffff:0:7f00:1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "100::1"])
    func nat64FormOfAPrivateAddressIsRefused(_ text: String) {
        #expect(AddressClass.isNonPublicIPv6(bytes(text)), "\(text) judged public")
    }

    /// The NAT64 form of a public address is as public as the address.
    @Test(arguments: ["64:ff9b::808:808", "2606:4700::6810:84e5", "2a00:1450:4001:80b::200e"])
    func publicAddressesStayPublic(_ text: String) {
        #expect(!AddressClass.isNonPublicIPv6(bytes(text)), "\(text) judged non-public")
    }
}
