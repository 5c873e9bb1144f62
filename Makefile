GO       ?= go
BIN      := bin
PKGS     := ./...
BENCH    ?= .
BENCHTIME ?= 1s

.PHONY: all build run test bench lint fmt clean

all: build

# The version --version prints: git describe names the revision even where
# Go's own VCS stamping is off (GOFLAGS=-buildvcs=false) or finds no
# repository (a git worktree, whose .git is a file).
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null)
MODULE   := github.com/gokarbor/karbor-protection
LDFLAGS  := -X $(MODULE)/cmd/karbor-protection/internal/app.version=$(VERSION) \
	-X $(MODULE)/cmd/karbor-protection-ctl/internal/ctl.version=$(VERSION)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# The service on this machine with the sample configuration (starts a local
# RabbitMQ if needed); see scripts/run-local.sh.
run:
	./scripts/run-local.sh

# The full suite, with the services it needs; see tox-like-test.sh.
test:
	./tox-like-test.sh

# Every benchmark; those that claim a speed measure their floor in the same run.
bench:
	$(GO) test -run='^$$' -bench='$(BENCH)' -benchtime=$(BENCHTIME) -benchmem $(PKGS)

lint:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$bad" ] || { echo "gofmt: $$bad"; exit 1; }
	$(GO) vet $(PKGS)
	staticcheck $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)
