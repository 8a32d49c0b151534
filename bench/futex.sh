#!/usr/bin/env bash
# Futex and thread costs natively, under the Sentry and under runsc (if
# installed), in one run: a futex ping-pong between two threads and between
# two processes sharing the word (ns per round trip), and pthread_create +
# join (futex_bench, static). A runner that cannot run a workload (the
# Sentry before CLONE_THREAD) shows n/a.
#
#   bench/futex.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
bazel build -c opt //cmd/sentry //bench:futex_bench_bin >/dev/null 2>&1
sentry=$(realpath bazel-bin/cmd/sentry/sentry)
prog=$(realpath bazel-bin/bench/futex_bench)

declare -A cmd=([native]="" [sentry-ptrace]="$sentry run --platform=ptrace")
runners=(native sentry-ptrace)
if command -v runsc >/dev/null 2>&1; then
  cmd[runsc-ptrace]="runsc --platform=ptrace --network=none do"
  runners+=(runsc-ptrace)
fi

# The value futex_bench prints for `mode`, or n/a if it fails.
measure() {
  local r=$1 mode=$2 count=$3 out
  # shellcheck disable=SC2086
  if out=$(${cmd[$r]} "$prog" "$mode" "$count" 2>/dev/null); then
    awk '{print $2}' <<<"$out"
  else
    echo n/a
  fi
}

printf '%-14s %18s %19s %18s\n' runner "thread futex rt ns" \
  "process futex rt ns" "thread create us"
for r in "${runners[@]}"; do
  a=$(measure "$r" thread_pingpong "$n")
  b=$(measure "$r" process_pingpong "$n")
  c=$(measure "$r" thread_create $((n / 10 + 1)))
  printf '%-14s %18s %19s %18s\n' "$r" "$a" "$b" "$c"
done
