#!/usr/bin/env bash
# Prints the Go benchmark results in bench.out as a Markdown table, then runs
# the standard load-generator set (lsmqtt bench --suite: raw UDP ceiling, QoS 0
# paced/unpaced and QoS 1 with 1 and 100 clients, 2,000-CONNECT burst), each
# scenario against a fresh in-process gateway with its embedded broker, and
# prints its table; the same set with each gateway in a child process (which
# also gives the gateway process's own CPU per message); then the handover latency (two in-process areas, the node
# publishing right behind HO-RESUME, then after HO-RESUMED). `uptime` is
# printed with each, since the host's load decides the throughputs.
#
# Usage: .ci/benchtable.sh [bench.out]
# Environment:
#   LSMQTT_BIN        the lsmqtt binary (default bin/lsmqtt; built by `make build`)
#   LOADGEN=0         skip the load-generator set
#   LOADGEN_DURATION  publish phase of each scenario (default 5s)
#   HANDOVER_MOVES    moves measured by each handover run (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench.out}
bin=${LSMQTT_BIN:-bin/lsmqtt}

if [ -s "$out" ]; then
  echo "## Go benchmarks ($out)"
  echo
  echo "| package | benchmark | ns/op | B/op | allocs/op | other metrics |"
  echo "|---|---|---|---|---|---|"
  awk '
    /^pkg: / { pkg = $2; sub(/^github.com\/lsmqtt\/lsmqtt\/?/, "", pkg); if (pkg == "") pkg = "."; next }
    /^Benchmark/ && NF >= 4 {
      name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
      ns = "—"; b = "—"; al = "—"; other = ""
      for (i = 3; i < NF; i += 2) {
        v = $i; u = $(i + 1)
        if (u == "ns/op") ns = v
        else if (u == "B/op") b = v
        else if (u == "allocs/op") al = v
        else other = other (other == "" ? "" : ", ") v " " u
      }
      printf "| %s | %s | %s | %s | %s | %s |\n", pkg, name, ns, b, al, other
    }
  ' "$out"
  echo
else
  echo "benchtable: no Go benchmark output in $out" >&2
fi

if [ "${LOADGEN:-1}" = "0" ]; then
  exit 0
fi
if [ ! -x "$bin" ]; then
  echo "benchtable: $bin not built (make build); skipping the load-generator set" >&2
  exit 1
fi
dur=${LOADGEN_DURATION:-5s}
moves=${HANDOVER_MOVES:-1000}
echo "## Load generator: standard set (lsmqtt bench --suite --duration $dur)"
echo
echo "uptime at start: $(uptime)"
echo
"$bin" --log-level warn bench --suite --duration "$dur"
echo
echo "## Load generator: standard set, gateway in a child process (lsmqtt bench --suite --spawn --duration $dur)"
echo
echo "uptime at start: $(uptime)"
echo
"$bin" --log-level warn bench --suite --spawn --duration "$dur"
echo
echo "## Handover: HO-RESUME → first delivery in the new area (lsmqtt bench --handover $moves)"
echo
echo "uptime at start: $(uptime)"
echo
"$bin" --log-level warn bench --handover "$moves"
"$bin" --log-level warn bench --handover "$moves" --handover-wait-resumed
echo
echo "uptime at end: $(uptime)"
