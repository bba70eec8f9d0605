#!/usr/bin/env bash
# Installs what the end-to-end tests call besides Node: the pinned Go tools (protoc-gen-go,
# protoc-gen-connect-go, grpcurl) into .tools/bin, and promtool from Debian's prometheus package.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/go-tools.sh
if ! command -v promtool >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
