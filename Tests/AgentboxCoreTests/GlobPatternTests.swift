import Testing

@testable import AgentboxCore

@Suite struct GlobPatternTests {
    @Test func recursivePathPatternMatchesTheDirectoryItselfAndBelow() {
        let pattern = GlobPattern.path("/home/alex/work/billing/**")
        #expect(pattern.matches("/home/alex/work/billing"))
        #expect(pattern.matches("/home/alex/work/billing/src"))
        #expect(pattern.matches("/home/alex/work/billing/src/main/kotlin"))
    }

    @Test func siblingDirectoryDoesNotMatchRecursivePathPattern() {
        let pattern = GlobPattern.path("/home/alex/work/billing/**")
        #expect(!pattern.matches("/home/alex/work/billing2"))
        #expect(!pattern.matches("/home/alex/work/billing-old/src"))
        #expect(!pattern.matches("/home/alex/work"))
        #expect(!pattern.matches("/home/alex/work/bil"))
    }

    @Test func globstarAtStartMiddleAndEnd() {
        let start = GlobPattern.path("/**/secrets")
        #expect(start.matches("/secrets"))
        #expect(start.matches("/a/b/c/secrets"))
        #expect(!start.matches("/a/b/c/secrets2"))

        let middle = GlobPattern.path("/home/**/src")
        #expect(middle.matches("/home/src"))
        #expect(middle.matches("/home/alex/work/src"))
        #expect(!middle.matches("/home/alex/work/src/main"))

        let everything = GlobPattern.path("/**")
        #expect(everything.matches("/"))
        #expect(everything.matches("/etc/passwd"))

        let twoStars = GlobPattern.path("/a/**/b/**/c")
        #expect(twoStars.matches("/a/b/c"))
        #expect(twoStars.matches("/a/x/b/y/z/c"))
        #expect(!twoStars.matches("/a/x/c"))
    }

    @Test func singleStarStaysInsideOneSegment() {
        let pattern = GlobPattern.path("/home/*/work")
        #expect(pattern.matches("/home/alex/work"))
        #expect(pattern.matches("/home//work"))
        #expect(!pattern.matches("/home/alex/sub/work"))
        #expect(GlobPattern.path("/srv/app-*").matches("/srv/app-1"))
        #expect(!GlobPattern.path("/srv/app-*").matches("/srv/app-1/x"))
    }

    @Test func questionMarkMatchesOneCharacterNotASeparator() {
        let pattern = GlobPattern.path("/srv/app?")
        #expect(pattern.matches("/srv/app1"))
        #expect(pattern.matches("/srv/appé"))
        #expect(!pattern.matches("/srv/app"))
        #expect(!pattern.matches("/srv/app12"))
        #expect(!GlobPattern.path("/srv/a?b").matches("/srv/a/b"))
    }

    @Test func hostWildcardDoesNotMatchDeeperSubdomains() {
        let pattern = GlobPattern.host("*.corp.example")
        #expect(pattern.matches("a.corp.example"))
        #expect(!pattern.matches("a.b.corp.example"))
        #expect(!pattern.matches("corp.example"))
        #expect(!pattern.matches("a.corp.example.evil.test"))
        #expect(!pattern.matches("acorp.example"))
    }

    @Test func bareStarMatchesAnyHost() {
        let pattern = GlobPattern.host("*")
        #expect(pattern.matches("remote-devbox-1"))
        #expect(pattern.matches("a.b.c.example"))
    }

    @Test func literalPatternsMatchOnlyThemselves() {
        let pattern = GlobPattern.host("remote-devbox-1")
        #expect(pattern.isLiteral)
        #expect(pattern.matches("remote-devbox-1"))
        #expect(!pattern.matches("remote-devbox-10"))
        #expect(!pattern.matches("xremote-devbox-1"))
        #expect(!GlobPattern.host("*.example").isLiteral)
    }

    @Test func pathologicalPatternDoesNotBacktrackExponentially() {
        let text = String(repeating: "a", count: 20_000)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(!GlobPattern.single("a*a*a*a*a*a*a*b").matches(text))
            #expect(!GlobPattern.path("/**/a/**/a/**/a/**/b").matches(String(repeating: "/a", count: 2_000)))
        }
        #expect(elapsed < .seconds(5))
    }

    @Test func singleArgumentPatternMatchesAcrossSlashes() {
        #expect(GlobPattern.single("--out=*").matches("--out=/tmp/x/y"))
        #expect(!GlobPattern.single("--out=*").matches("--in=/tmp"))
    }
}
