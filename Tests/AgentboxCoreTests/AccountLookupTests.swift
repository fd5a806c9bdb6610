import AgentboxCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Account lookups without glibc's NSS modules (the static release binaries crash in them).
@Suite struct AccountLookupTests {
    @Test func passwdLinesAreReadAsTheFilesModuleReadsThem() {
        let text = """
            root:x:0:0:root:/root:/bin/bash
            # a comment
            +nisuser::::::
            -excluded::::::
            short:x:5
            badid:x:abc:1:gecos:/home/badid:/bin/sh
            :x:7:7:no name:/nowhere:/bin/sh
            alex:x:1000:1000:Alex,,,:/home/alex:/bin/zsh
            alex:x:1001:1001:second alex:/home/other:/bin/sh
            """
        let accounts = AccountLookup.parse(text)
        #expect(accounts == [
            Account(name: "root", uid: 0, gid: 0, home: "/root"),
            Account(name: "alex", uid: 1000, gid: 1000, home: "/home/alex"),
            Account(name: "alex", uid: 1001, gid: 1001, home: "/home/other"),
        ])
    }

    @Test func rootIsFoundByNameAndByUid() {
        #expect(AccountLookup.account(uid: 0)?.name == "root")
        #expect(AccountLookup.account(name: "root")?.uid == 0)
    }

    /// A name /etc/passwd lacks goes to getent (every NSS module), which does not find it either.
    @Test func unknownAccountsAreNotFound() {
        #expect(AccountLookup.account(name: "no-such-account-\(getpid())") == nil)
        #expect(AccountLookup.account(uid: 3_999_999_000) == nil)
    }

    /// Names that cannot be accounts never reach getent's command line as something else.
    @Test func impossibleNamesAreRefusedOutright() {
        for name in ["", "a:b", "a\nroot", "12345", "--help", "-s", "+0", " 0", "+65534", " nobody", "nobody ", "٣", ".x"] {
            #expect(AccountLookup.account(name: name) == nil, "\(name)")
        }
    }

    /// getent reads `+65534` as uid 65534: such a name must never become the account of that uid.
    @Test func anAnswerForAnotherNameIsNotTaken() {
        #expect(AccountLookup.isAccountName("alex.smith@example.com") && AccountLookup.isAccountName("host$"))
        #expect(!AccountLookup.isAccountName("+65534") && !AccountLookup.isAccountName("a b"))
        #expect(AccountLookup.account(name: "+65534") == nil)
    }
}
