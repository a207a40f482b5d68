# vmlite. The two commands a new machine needs:
#   make demo   build, make a busybox rootfs, boot it, show its console, exec, stop
#   make test   every test: lint, unit (race), fuzz smoke, privileged integration
GO        ?= go
BIN       := bin/vmlite
CORE      := bin/vmlite-core
PREFIX    ?= /usr/local
FUZZTIME  ?= 10s
GOFLAGS_BUILD := -trimpath -ldflags='-s -w'
export CGO_ENABLED ?= 0

.PHONY: all build deps test unit lint fuzz integration demo bench install clean fmt

all: build

# vmlite-init (the __init role alone, 3 MB) and vmlite-procfs (the /proc
# server alone) first: vmlite-supervisor (the __supervise role alone)
# embeds them, and the full binary embeds all three. bin/vmlite is the
# small front binary users run (cmd/vmlite-front: stop, destroy and console
# of a running guest without the full binary's start-up); it execs
# bin/vmlite-core, the full binary (cmd/vmlite), for everything else
# (DEVELOPERS.md, "Architecture").
build:
	$(GO) build $(GOFLAGS_BUILD) -o internal/initbin/blob/vmlite-init ./cmd/vmlite-init
	$(GO) build $(GOFLAGS_BUILD) -o internal/procfsbin/blob/vmlite-procfs ./cmd/vmlite-procfs
	$(GO) build $(GOFLAGS_BUILD) -o internal/supervisorbin/blob/vmlite-supervisor ./cmd/vmlite-supervisor
	$(GO) build $(GOFLAGS_BUILD) -o $(CORE) ./cmd/vmlite
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN) ./cmd/vmlite-front

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

# The binary, man pages (markdown rendered with go-md2man from the module
# proxy), bash/zsh/fish completion and the systemd unit.
MANDIR    ?= $(PREFIX)/share/man
UNITDIR   ?= /etc/systemd/system
MD2MAN    := $(GO) run github.com/cpuguy83/go-md2man/v2@v2.0.7
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/vmlite
	install -D -m 0755 $(CORE) $(DESTDIR)$(PREFIX)/libexec/vmlite/vmlite-core
	install -d $(DESTDIR)$(MANDIR)/man1
	for f in docs/man/*.1.md; do \
		$(MD2MAN) -in $$f -out $(DESTDIR)$(MANDIR)/man1/$$(basename $$f .md) || exit 1; \
	done
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	$(BIN) completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vmlite
	$(BIN) completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_vmlite
	$(BIN) completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/vmlite.fish
	sed 's|/usr/local/bin/vmlite|$(PREFIX)/bin/vmlite|' dist/vmlite.service > vmlite.service.tmp
	install -D -m 0644 vmlite.service.tmp $(DESTDIR)$(UNITDIR)/vmlite.service
	sed 's|/usr/local/bin/vmlite|$(PREFIX)/bin/vmlite|' dist/vmlite-serve.service > vmlite.service.tmp
	install -D -m 0644 vmlite.service.tmp $(DESTDIR)$(UNITDIR)/vmlite-serve.service
	rm -f vmlite.service.tmp
	# Host ids set aside for guests (docs/security.md): above the ranges
	# useradd hands out (SUB_UID_MAX 600100000), added once, never changed.
	if [ -z "$(DESTDIR)" ]; then for f in /etc/subuid /etc/subgid; do \
		grep -q '^vmlite:' $$f 2>/dev/null || echo 'vmlite:1000000000:1000000000' >> $$f || exit 1; \
	done; fi
	# libvirt-sock's group: its members use vmlite serve read-write.
	if [ -z "$(DESTDIR)" ] && ! getent group vmlite >/dev/null; then groupadd --system vmlite; fi

clean:
	rm -rf bin internal/initbin/blob/vmlite-init internal/procfsbin/blob/vmlite-procfs internal/supervisorbin/blob/vmlite-supervisor
