#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each (default 30s).
# Usage: .ci/fuzz.sh [FUZZTIME]
set -euo pipefail
fuzztime=${1:-30s}
cd "$(dirname "$0")/.."
failed=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "== $pkg $target ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"; then
      failed=1
    fi
  done
done
exit $failed
