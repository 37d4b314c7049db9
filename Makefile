# eidsync: every target a newcomer or CI needs. `make` alone lists them.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
FUZZTIME  ?= 5s
SEEDS     ?= 10000
CANARY_SEEDS ?= 1000
G14SEEDS  ?= 1000
PROFILE   ?= small
TAGS      ?=
CROSSDIR  := kernel/entry/testdata/crosscheck
STATICCHECK := $(GO) tool -modfile=tools.mod staticcheck

.PHONY: help build demo fmt fmt-check vet lint tidy-check test race sim sim-g14 sim-seed sim-shrink sim-adversarial sim-canary fuzz-smoke fuzz crosscheck bench golden ci

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

demo: ## run two local nodes: A writes a database, B syncs it, both show the same tips
	./scripts/demo.sh

build: ## compile every package and the eidsync binary
	$(GO) build ./...
	$(GO) build -o bin/eidsync ./cmd/eidsync

fmt: ## gofmt -s -w the tree
	gofmt -s -w .

fmt-check: ## fail if gofmt -s would change a file
	@out=$$(gofmt -s -l .); if [ -n "$$out" ]; then echo "gofmt -s would change:"; echo "$$out"; exit 1; fi

vet: ## go vet
	$(GO) vet ./...

lint: ## staticcheck, pinned in tools.mod (kernel import rules run in `test`)
	$(STATICCHECK) ./...

tidy-check: ## fail if go mod tidy would change go.mod or go.sum
	$(GO) mod tidy
	git diff --exit-code go.mod go.sum

test: ## all tests with invariants on, shuffled
	$(GO) test -tags invariants -shuffle=on -count=1 -timeout 5m ./...

race: ## all tests under the race detector
	$(GO) test -race -tags invariants -count=1 -timeout 10m ./...

fuzz-smoke: ## run every fuzz target for FUZZTIME (default 5s); retries the Go 1.26 fuzztime deadline race once
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz-smoke.sh

fuzz: ## fuzz one target longer: make fuzz TARGET=FuzzEntryCBOR FUZZTIME=10m
	$(GO) test ./fuzz -run '^$$' -fuzz '^$(TARGET)$$' -fuzztime $(FUZZTIME)

crosscheck: ## re-derive the entry golden vectors with the IPLD JavaScript libraries
	cd $(CROSSDIR) && npm ci --no-audit --no-fund --loglevel=error && node crosscheck.mjs ../vectors.json

bench: ## benchmarks; each prints its ratio to the floor measured in the same run
	$(GO) test -run '^$$' -bench . -benchmem ./...

sim: ## randomized simulator: SEEDS seeds (10000), each run twice, then the coverage table (TAGS=invariants: kernel assertions too)
	$(GO) test ./sim -tags '$(TAGS)' -run '^TestSim$$' -count=1 -timeout 10m -v -sim.seeds=$(SEEDS) -sim.profile=$(PROFILE)

sim-g14: ## G14 convergence campaign (PERFORMANCE.md G14): G14SEEDS seeds (1000), convergence time in T
	$(GO) test ./sim -run '^TestG14$$' -count=1 -timeout 0 -v -g14.seeds=$(G14SEEDS)

sim-seed: ## replay one seed with its readable trace: make sim-seed SEED=123 [PROFILE=adversarial] [SKIP=1-4,9-] [DISABLE=drop,crash] [TICKS=40]
	@test -n "$(SEED)" || { echo "usage: make sim-seed SEED=<n> [PROFILE=small|adversarial|large] [SKIP=<list>] [DISABLE=<faults>] [TICKS=<n>]"; exit 2; }
	$(GO) test ./sim -tags '$(TAGS)' -run '^TestSim$$' -count=1 -v -sim.seed=$(SEED) -sim.profile=$(PROFILE) -sim.skip='$(SKIP)' -sim.disable='$(DISABLE)' -sim.ticks=$(or $(TICKS),0)

sim-shrink: ## shrink a failing seed (60 s budget), print its replay command and regressions.txt line: make sim-shrink SEED=123
	@test -n "$(SEED)" || { echo "usage: make sim-shrink SEED=<n> [PROFILE=...] [SKIP=<list>] [DISABLE=<faults>] [TICKS=<n>]"; exit 2; }
	$(GO) test ./sim -tags '$(TAGS)' -run '^TestSim$$' -count=1 -timeout 5m -sim.shrink -sim.seed=$(SEED) -sim.profile=$(PROFILE) -sim.skip='$(SKIP)' -sim.disable='$(DISABLE)' -sim.ticks=$(or $(TICKS),0)

sim-adversarial: ## the adversarial profile (lost fsync, stale restore): failures it causes are reported as expected
	$(GO) test ./sim -run '^TestSim$$' -count=1 -timeout 10m -v -sim.seeds=1000 -sim.profile=adversarial

sim-canary: ## planted kernel bugs (build tags canary_*): each must fail the simulator within CANARY_SEEDS (1000) seeds
	SEEDS=$(CANARY_SEEDS) PROFILE=$(PROFILE) GO=$(GO) ./scripts/canary.sh

golden: ## regenerate golden files, then review git diff
	$(GO) test ./kernel/... -rewrite

ci: fmt-check vet lint tidy-check test race sim sim-canary fuzz-smoke crosscheck ## everything CI runs
