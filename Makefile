# onemfive build, run and test entry points. See README.md.
GO      ?= go
BIN     := bin
PLUGDIR := $(BIN)/plugins
# transport plugins: plugins/<name> builds bin/plugins/onemfive-transport-<name>
TRANSPORTS := direct lan tor i2p
export GOFLAGS := -buildvcs=false

# Tests run in a fresh network namespace with only loopback, so no test can
# reach an outside address; modules are fetched first, then GOPROXY=off.
NETNS := $(shell if [ "$$(id -u)" = 0 ]; then echo "unshare -n"; else echo "unshare -rn"; fi)
TESTFLAGS ?= -count=1 -timeout 20m

.PHONY: all build run test bench lint fuzz clean deps

all: build

# Go modules, and (as root, when missing) tor, obfs4proxy and i2pd for the
# real-component tests: scripts/test-deps.sh.
deps:
	$(GO) mod download
	@bash scripts/test-deps.sh

build:
	$(GO) build -o $(BIN)/onemfived ./host/cmd/onemfived
	$(GO) build -o $(BIN)/onemfive ./host/cmd/onemfive
	@mkdir -p $(PLUGDIR)
	@for p in $(TRANSPORTS); do \
		$(GO) build -o $(PLUGDIR)/onemfive-transport-$$p ./plugins/$$p || exit 1; \
		$(BIN)/onemfive plugin install --dir $(PLUGDIR) $(PLUGDIR)/onemfive-transport-$$p >/dev/null || exit 1; \
	done
	@echo "built $(BIN)/onemfived, $(BIN)/onemfive and plugins in $(PLUGDIR)"

# Starts the daemon with the shipped config.hcl and a local data dir (./data).
run: build
	$(BIN)/onemfived --config config.hcl --data-dir data

test: deps build
	$(GO) vet ./...
	$(NETNS) sh -c 'ip link set lo up && GOPROXY=off $(GO) test $(TESTFLAGS) ./...'

bench: deps build
	$(NETNS) sh -c 'ip link set lo up && GOPROXY=off $(GO) test -run=^$$ -bench=. -benchmem -count=5 ./... | tee bench.txt'

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Runs every fuzz target briefly (FUZZTIME each); new crashers land in testdata.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			$(NETNS) sh -c "ip link set lo up && GOPROXY=off $(GO) test -run=^$$ -fuzz=^$$f\$$ -fuzztime=$(FUZZTIME) $$pkg" || exit 1; \
		done; \
	done

clean:
	rm -rf $(BIN) bench.txt
