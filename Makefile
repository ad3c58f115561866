# lsmqtt — see README.md. `make run` and `make test` are the two commands a
# newcomer needs; the rest are for developers.

GO        ?= go
FUZZTIME  ?= 30s
STATICCHECK_VERSION ?= v0.8.2
BIN       := bin/lsmqtt
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)

.PHONY: all build run test bench fuzz lint soak clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/lsmqtt

# The main job on embedded defaults: no broker to install, no config to write.
run: build
	./$(BIN) demo

test:
	@unformatted=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -timeout 20m ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./... | tee bench.out
	./.ci/benchtable.sh bench.out

# Every fuzz target in the module for FUZZTIME each.
fuzz:
	./.ci/fuzz.sh $(FUZZTIME)

# Load and soak (docs/reliability.md): SOAK_CLIENTS emulated MQTT-SN clients
# publishing QoS 1 at 1 msg/s each for SOAK_DURATION against one in-process
# gateway; zero loss, flat heap and goroutines, latency p99 in soak.out.
SOAK_CLIENTS  ?= 10000
SOAK_DURATION ?= 10m
soak:
	LSMQTT_SOAK_CLIENTS=$(SOAK_CLIENTS) LSMQTT_SOAK_DURATION=$(SOAK_DURATION) \
	  $(GO) test -run '^TestReliabilitySoak$$' -count=1 -timeout 60m -v ./internal/loadgen/inproc/ >soak.out 2>&1; \
	  rc=$$?; cat soak.out; exit $$rc

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

clean:
	rm -rf bin bench.out
