# vmlite. The two commands a new machine needs:
#   make demo   build, make a busybox rootfs, boot it, show its console, exec, stop
#   make test   every test: lint, unit (race), fuzz smoke, privileged integration
GO        ?= go
BIN       := bin/vmlite
PREFIX    ?= /usr/local
FUZZTIME  ?= 10s
GOFLAGS_BUILD := -trimpath -ldflags='-s -w'
export CGO_ENABLED ?= 0

.PHONY: all build deps test unit lint fuzz integration demo bench install clean fmt

all: build

build:
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN) ./cmd/vmlite

deps:
	./scripts/install-deps.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	./scripts/staticcheck.sh ./...

# Unprivileged unit tests with the race detector (cgo is needed for -race).
unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

# A short run of every fuzz target (FUZZTIME each).
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# Privileged end-to-end tests: real namespaces, cgroups, veths, rootfs, init.
integration: deps build
	$(GO) test -count=1 -tags integration -timeout 40m ./tests/integration/... -vmlite.bin=$(CURDIR)/$(BIN)

test: deps build lint unit fuzz integration

demo: deps build
	./scripts/demo.sh

bench: deps build
	./bench/run.sh

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/vmlite

clean:
	rm -rf bin
