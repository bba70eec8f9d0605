#!/usr/bin/env bash
# Regenerates gen/ts and gen/go from proto/ (see buf.gen.yaml). Generated code is committed;
# `--check` (which npm test runs) fails when a fresh generation differs from gen/.
# Either way buf writes into a temporary directory first, so a check leaves gen/ as it is and a
# generation that fails partway leaves the previous gen/ in place.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  '' | --check) ;;
  *) echo "usage: scripts/generate.sh [--check]" >&2; exit 2 ;;
esac
. scripts/go-tools.sh
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
npx buf generate -o "$fresh"
npx buf generate --template buf.gen.grpc.yaml -o "$fresh"
# gen/go also holds the go.mod and go.sum of the generated module, which are not generated.
generated=(gen/ts gen/go/rs3gw)
if [ "${1:-}" = --check ]; then
  status=0
  for dir in "${generated[@]}"; do
    diff -r "$dir" "$fresh/$dir" || status=1
  done
  [ $status = 0 ] || echo "gen/ differs from a fresh generation (above: < gen/, > fresh); \`npm run generate\` rewrites it"
  exit $status
fi
for dir in "${generated[@]}"; do
  rm -rf "$dir"
  mv "$fresh/$dir" "$dir"
done
