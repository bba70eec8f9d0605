#!/usr/bin/env bash
# Installs what the end-to-end tests call besides Node: the pinned Go tools (protoc-gen-go,
# protoc-gen-connect-go, grpcurl) into .tools/bin, and promtool and libfaketime from Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/go-tools.sh
# Debian packages: promtool (prometheus), and libfaketime (faketime) for the tests that step the
# server's wall clock.
packages=()
command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || packages+=(faketime)
if [ ${#packages[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
