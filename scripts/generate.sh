#!/usr/bin/env bash
# Regenerates gen/ts and gen/go from proto/ (see buf.gen.yaml). Generated code is committed;
# CI regenerates and fails when the result differs from what is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/go-tools.sh
rm -rf gen/ts gen/go/rs3gw
npx buf generate
npx buf generate --template buf.gen.grpc.yaml
