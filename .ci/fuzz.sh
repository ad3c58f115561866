#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each (default 30s).
# Usage: .ci/fuzz.sh [FUZZTIME]
#
# A run that fails WITHOUT writing a failing input and whose only complaint
# is "context deadline exceeded" is the Go fuzzing engine's own error at the
# end of -fuzztime, not the target's: the coordinator wakes on its -fuzztime
# deadline and may compare with its workers' context before the cancellation
# has reached that child context (Go 1.26 src/internal/fuzz/fuzz.go, stop();
# reported upstream as golang/go#75804), a race any target can lose on a
# loaded host. It was first seen with FuzzGateway; that target has since been
# fixed at the target (each input's work bounded and small, about twice the
# execs/s), so a slow input is not the cause there. Such a run is reported
# loudly but does not fail; any failure with a failing input fails it.
set -euo pipefail
fuzztime=${1:-30s}
cd "$(dirname "$0")/.."
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "== $pkg $target ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$out"; then
      if ! grep -q 'Failing input written' "$out" && grep -q 'context deadline exceeded' "$out"; then
        echo "!! $pkg $target: 'context deadline exceeded' with no failing input: the Go fuzzing coordinator's deadline race at the end of -fuzztime (golang/go#75804, fixed for Go 1.27), not the target; not counted as a failure"
      else
        failed=1
      fi
    fi
  done
done
exit $failed
