#!/usr/bin/env bash
# Installs the pinned Go tools into .tools/bin (once per version) and puts them on PATH.
# Source it: `. scripts/go-tools.sh`.
PROTOC_GEN_GO_VERSION=v1.36.11
PROTOC_GEN_CONNECT_GO_VERSION=v1.19.1
GRPCURL_VERSION=v1.9.3

tools_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools"
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
