# agentbox: secret-broker, devssh, secrets (and agentbox).
SWIFT ?= swift
PREFIX ?= /usr/local
CONFIG ?= debug
BUILD_FLAGS ?=

.PHONY: all build release test demo bench install clean format packages

all: build

packages:
	@scripts/ensure-packages

build: packages
	$(SWIFT) build $(BUILD_FLAGS)

# Release binaries link the Swift runtime statically: `secrets run` starts before every command,
# and loading the runtime's shared libraries would double its start-up time. The libstdc++ the
# runtime needs is linked statically as well: resolving its ~3,300 symbol relocations at every
# start cost ~1.2 ms. scripts/static-libstdc++/libstdc++.so is a linker script that -lstdc++
# finds first and that names libstdc++.a; lld reads it (gold does not know `-l:` in scripts).
RELEASE_FLAGS = -c release -Xswiftc -static-stdlib -Xswiftc -use-ld=lld -Xswiftc -L$(CURDIR)/scripts/static-libstdc++
release: packages
	$(SWIFT) build $(RELEASE_FLAGS) $(BUILD_FLAGS)

# The full suite: unit tests and end-to-end tests against a real sshd, pass and gpg.
test: packages
	@scripts/ensure-python-packages
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build $(BUILD_FLAGS)

# A broker with a file:// vault and the demo policy: `secrets run` grants and denials, then an
# agent session (inject, proxy, never) through agentbox, ended by its lease.
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
