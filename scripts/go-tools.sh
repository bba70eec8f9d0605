#!/usr/bin/env bash
# Installs the pinned Go tools into .tools/bin (once per version) and puts them on PATH.
# Source it: `. scripts/go-tools.sh` (it returns 1, saying why, when Go is missing or too old).
PROTOC_GEN_GO_VERSION=v1.36.11
PROTOC_GEN_CONNECT_GO_VERSION=v1.19.1
GRPCURL_VERSION=v1.9.3

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Go itself is not installed from here: say what is missing rather than fail inside `go install`
# (or, with GOTOOLCHAIN=auto, have go fetch a newer toolchain). The newest `go` line of our go.mod
# files is what they need.
go_needed=$(sed -n 's/^go //p' "$repo_root/gen/go/go.mod" "$repo_root/clients/go/go.mod" | sort -V | tail -1)
if ! command -v go >/dev/null 2>&1; then
  echo "Go $go_needed or newer is needed (gen/go, clients/go, the pinned Go tools) and go is not on PATH" >&2
  return 1
fi
go_found=$(GOTOOLCHAIN=local go env GOVERSION) # such as go1.26.8
if [ "$(printf '%s\n' "$go_needed" "${go_found#go}" | sort -V | head -1)" != "$go_needed" ]; then
  echo "Go $go_needed or newer is needed (the go line of gen/go/go.mod, clients/go/go.mod); $(command -v go) is $go_found" >&2
  return 1
fi

tools_root="$repo_root/.tools"
export GOBIN="$tools_root/bin"
export PATH="$GOBIN:$PATH"
mkdir -p "$GOBIN"

install_pinned() { # name module version
  local stamp="$tools_root/$1@$3"
  if [ ! -x "$GOBIN/$1" ] || [ ! -f "$stamp" ]; then
    GOFLAGS=-buildvcs=false go install "$2@$3" && touch "$stamp"
  fi
}
install_pinned protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION"
install_pinned protoc-gen-connect-go connectrpc.com/connect/cmd/protoc-gen-connect-go "$PROTOC_GEN_CONNECT_GO_VERSION"
install_pinned grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl "$GRPCURL_VERSION"
