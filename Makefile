# The two commands of the README: `make run` and `make test`.
PREFIX ?= /usr/local
CORPUS ?= ../shared/corpora/tinyshakespeare.txt
SECONDS ?= 120

.PHONY: setup build release run train-demo test lint bench clean

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

# Every test: the format check, the Swift suites (engine, daemon, rnnctl), the shell client.
test: setup lint
	swift build --build-tests
	swift test
	bats Tests/clients

lint:
	swift format lint --strict --recursive --configuration .swift-format Package.swift Sources Tests

# Speed of the benchmark configurations, as key=value lines (release build).
bench: release
	.build/release/rnnbench speed --corpus $(CORPUS)

clean:
	rm -rf .build
