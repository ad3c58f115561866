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
	./scripts/benchtable.sh bench.out

# Every fuzz target in the module for FUZZTIME each.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

clean:
	rm -rf bin bench.out
