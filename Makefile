# The two commands of the README: `make run` and `make test`.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
BIN ?= .build/release
CORPUS ?= Tests/corpora/tinyshakespeare.txt
SECONDS ?= 120

.PHONY: setup build release run train-demo test lint generate bench fuzz install clean

setup:
	scripts/setup

build: setup
	swift build

release: setup
	swift build -c release

# The main job: rnnd in the foreground, on the user's sockets and state folder.
run: release
	.build/release/rnnd

# Train a 2x128 LSTM on the corpus for $(SECONDS) s without the daemon, report validation
# loss, print a sample.
train-demo: release
	.build/release/rnnbench train --corpus $(CORPUS) --seconds $(SECONDS)

# Every test: the format check, the manual pages against the commands' help, the Swift suites (engine, daemon, rnnctl, the hostile-input,
# fault and soak campaign), the engine's numeric suite again on every kernel path this CPU
# can run, the same binary on an emulated CPU without AVX (qemu-user), the shell client, the systemd sandbox, POWERLOSS_ROUNDS power cuts on a
# lossy FUSE filesystem, and FUZZ_RUNS executions of the request-path fuzzer.
FUZZ_RUNS ?= 20000
POWERLOSS_ROUNDS ?= 100
test: setup lint
	swift build --build-tests
	scripts/generate-manuals --check
	swift test
	scripts/test-kernel-paths
	scripts/test-old-cpu
	python3 Tests/powerloss/rounds.py .build/debug/rnnd --rounds $(POWERLOSS_ROUNDS)
	bats Tests/clients
	Tests/systemd/run
	scripts/fuzz $(FUZZ_RUNS)

# The fuzzer alone, for longer: make fuzz FUZZ_RUNS=0 runs until stopped.
fuzz:
	scripts/fuzz $(FUZZ_RUNS)

# Swift types, validation, method table, error codes, client calls and the protocol
# README's lists, from protocol/openrpc.json (a test fails when they are stale).
generate:
	python3 protocol/generate_swift.py

lint:
	swift format lint --strict --recursive --configuration .swift-format Package.swift Sources Tests

# Speed of the benchmark configurations, as key=value lines (release build).
bench: release
	.build/release/rnnbench speed --corpus $(CORPUS)

# Binaries, units, default configuration, completions, man pages and the shell client,
# under $(DESTDIR)$(PREFIX) (units and configuration as systemd and rnnd expect them).
# It only copies: building (and its set-up, apt and pip) stays with the user, not root.
install:
	@test -x $(BIN)/rnnd -a -x $(BIN)/rnnctl || { \
	  echo "make install copies $(BIN)/rnnd and $(BIN)/rnnctl, which are not built: run make release first" >&2; exit 1; }
	install -Dm755 $(BIN)/rnnd $(DESTDIR)$(PREFIX)/bin/rnnd
	install -Dm755 $(BIN)/rnnctl $(DESTDIR)$(PREFIX)/bin/rnnctl
	install -Dm755 clients/rnnd.sh $(DESTDIR)$(PREFIX)/bin/rnnd.sh
	install -d $(DESTDIR)$(UNITDIR)
	for u in rnnd.service rnnd.socket rnnd-ro.socket; do \
	  sed -e 's|/usr/local/bin/|$(PREFIX)/bin/|g' -e 's|/etc/rnnd/|$(SYSCONFDIR)/rnnd/|g' systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u; \
	  chmod 644 $(DESTDIR)$(UNITDIR)/$$u; done
	install -Dm644 systemd/rnnd.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/rnnd.conf
	test -e $(DESTDIR)$(SYSCONFDIR)/rnnd/rnnd.toml || install -Dm644 systemd/rnnd.toml $(DESTDIR)$(SYSCONFDIR)/rnnd/rnnd.toml
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(BIN)/rnnctl --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/rnnctl
	$(BIN)/rnnctl --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_rnnctl
	$(BIN)/rnnctl --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/rnnctl.fish
	install -Dm644 docs/man/man1/rnnctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/rnnctl.1
	install -Dm644 docs/man/man1/rnnd.1 $(DESTDIR)$(PREFIX)/share/man/man1/rnnd.1

clean:
	rm -rf .build
