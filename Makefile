# relay-mesos: build, test, demo and benchmarks. See README.md.
SHELL := /bin/bash
GO ?= go
BIN := bin/relay-mesos
PKGS := ./...
SCENARIOS ?=
# Where tests find a ZooKeeper install (Debian's zookeeper package).
ZK_JAR := /usr/share/java/zookeeper.jar

.PHONY: all build test test-short vet fmt demo deps deps-zookeeper deps-chromium bench-control-wide \
        bench bench-control bench-framework bench-failover chaos chaos-quick examples clean

all: build

build:
	@mkdir -p bin
	$(GO) build -o $(BIN) ./cmd/relay-mesos

# Installs what the tests need when it is missing (Debian): ZooKeeper and Chromium.
deps: deps-zookeeper deps-chromium

deps-zookeeper:
	@if [ ! -f $(ZK_JAR) ]; then \
	  echo "installing Debian's zookeeper package (tests start a real ZooKeeper on 127.0.0.1)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends zookeeper >/dev/null; \
	fi

deps-chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "installing Debian's chromium package (the dashboard test renders the page headless)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

vet:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

# Every test, with the race detector. Long chaos and benchmark runs have their own targets.
test: deps vet build
	RELAY_REQUIRE_ZOOKEEPER=1 RELAY_REQUIRE_CHROMIUM=1 $(GO) test -race -count=1 -timeout 20m $(PKGS)

test-short: build
	$(GO) test -race -count=1 -short $(PKGS)

# The main job on embedded defaults: embedded Mesos master, a simulated queue, warmer tasks.
demo: build
	./deploy/demo.sh

bench-control: build
	./$(BIN) bench-control loop/sim/testdata/scenarios $(wildcard ../shared/scenarios) $(SCENARIOS)

# The controller on WIDE (default 200) scenarios from the random generator, seeds from
# WIDE_FIRST (default 2001): every miss with why, the pass rate, and no deadlock allowed.
# UNITS=F runs only the queue plants, read in units F times theirs (UNITS=1000: in thousands).
# JITTER=J reads the metric with -J..J of jitter added and counts floods.
# ARRIVALS=random runs only queues with arrivals, the items arriving at random (Poisson).
# GEN=wider draws plants wider than the ones the controller was tuned on (loop/sim WiderScenario).
# HOLD=N reads the metric refreshed only every N ticks (a series scraped less often than read);
# such a run only reports: neither the pass rate nor deadlocks fail it.
WIDE ?= 200
WIDE_FIRST ?= 2001
UNITS ?=
JITTER ?=
ARRIVALS ?=
GEN ?=
HOLD ?=
bench-control-wide:
	RELAY_SIM_WIDE=$(WIDE) RELAY_SIM_WIDE_FIRST=$(WIDE_FIRST) RELAY_SIM_WIDE_UNITS=$(UNITS) RELAY_SIM_WIDE_JITTER=$(JITTER) RELAY_SIM_WIDE_ARRIVALS=$(ARRIVALS) RELAY_SIM_WIDE_GEN=$(GEN) RELAY_SIM_WIDE_HOLD=$(HOLD) $(GO) test -count=1 -v -timeout 30m -run TestWideRandomBench ./loop/sim/

bench-framework: build
	RELAY_BENCH_FRAMEWORK=1 $(GO) test -count=1 -v -run TestBenchLaunchThroughput ./framework/
	$(GO) test -run '^$$' -bench . -benchtime 3x ./framework/...

bench-failover: deps-zookeeper build
	RELAY_REQUIRE_ZOOKEEPER=1 $(GO) test -run TestBenchFailover -v -count=1 -timeout 30m ./chaos/...

bench: bench-control bench-framework
	$(GO) test -run '^$$' -bench . -benchmem ./loop/...

chaos: deps-zookeeper build
	$(GO) run ./chaos/cmd/chaos -full

chaos-quick: deps-zookeeper build
	$(GO) run ./chaos/cmd/chaos -quick

examples: build
	RELAY_EXAMPLES=1 $(GO) test -race -count=1 -v -timeout 20m -run TestExample ./deploy/examples/...

clean:
	rm -rf bin out
