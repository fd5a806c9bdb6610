# agentbox: secret-broker, devssh, secrets (and agentbox).
SWIFT ?= swift
PREFIX ?= /usr/local
CONFIG ?= debug
BUILD_FLAGS ?=

.PHONY: all build release release-check test demo bench install clean format packages

all: build

packages:
	@scripts/ensure-packages

build: packages
	$(SWIFT) build $(BUILD_FLAGS)

# Release binaries link the Swift runtime statically: `secrets run` starts before every command,
# and loading the runtime's shared libraries would double its start-up time. The libstdc++ the
# runtime needs is linked statically as well: resolving its ~3,300 symbol relocations at every
# start cost ~1.2 ms. So are libseccomp, libcap and libyaml (each shared library is a search,
# an open and four mappings at every start) and libgcc. scripts/static-libs holds linker scripts
# that -lstdc++, -lseccomp, ... find first and that name the static archives; lld reads them
# (gold does not know `-l:` in scripts). Its pkgconfig/ files put that directory ahead of the
# system's for the three system library targets. No $ORIGIN run path: nothing is loaded from
# beside the binaries, and the loader no longer searches there first. AGENTBOX_STATIC_PIE=1 has
# Package.swift link agentbox, secrets and devssh static-pie: glibc inside too, no loader at all
# (its symbol lookups and relocations were ~0.3 ms of agentbox's start), ASLR kept.
RELEASE_FLAGS = -c release --disable-local-rpath -Xswiftc -static-stdlib -Xswiftc -use-ld=lld \
	-Xswiftc -L$(CURDIR)/scripts/static-libs -Xswiftc -Xclang-linker -Xswiftc -static-libgcc \
	-Xlinker -z -Xlinker pack-relative-relocs
release: packages
	AGENTBOX_STATIC_PIE=1 PKG_CONFIG_PATH=$(CURDIR)/scripts/static-libs/pkgconfig $(SWIFT) build $(RELEASE_FLAGS) $(BUILD_FLAGS)

# The release binaries as they ship: static-pie, ASLR, account lookups, the demo on them.
release-check: release
	@scripts/release-check

# The full suite: unit tests and end-to-end tests against a real sshd, pass and gpg.
test: packages
	@scripts/ensure-python-packages
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build $(BUILD_FLAGS)

# A broker with a file:// vault and the demo policy: `secrets run` grants and denials, then an
# agent session (inject, proxy, never) through agentbox, ended by its lease. Its redacted
# transcript is kept in $XDG_STATE_HOME/agentbox/transcripts/; the demo prints its path last.
demo: release
	@scripts/demo

# Benchmarks; results are ratios against baselines measured in the same run.
bench: release
	@bench/run-all

install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 .build/release/secret-broker .build/release/devssh .build/release/secrets .build/release/agentbox $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/agentbox
	install -m 0644 sandbox/seccomp-default.txt sandbox/keep.txt $(DESTDIR)$(PREFIX)/share/agentbox/

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	$(SWIFT) package clean
