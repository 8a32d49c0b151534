#!/usr/bin/env bash
# AF_UNIX socket costs natively, under the Sentry and under runsc (if
# installed), in one run (socket_bench, static): a one-byte ping-pong
# between two processes, stream throughput, 1 KiB datagrams, and
# connect+accept. A runner that cannot run a workload shows n/a.
#
#   bench/socket.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
bazel build -c opt //cmd/sentry //bench:socket_bench_bin >/dev/null 2>&1
sentry=$(realpath bazel-bin/cmd/sentry/sentry)
prog=$(realpath bazel-bin/bench/socket_bench)

declare -A cmd=([native]="" [sentry-ptrace]="$sentry run --platform=ptrace")
runners=(native sentry-ptrace)
if command -v runsc >/dev/null 2>&1; then
  cmd[runsc-ptrace]="runsc --platform=ptrace --network=none do"
  runners+=(runsc-ptrace)
fi

# The value socket_bench prints for `mode`, or n/a if it fails.
measure() {
  local r=$1 mode=$2 count=$3 out
  # shellcheck disable=SC2086
  if out=$(${cmd[$r]} "$prog" "$mode" "$count" 2>/dev/null); then
    awk '{print $2}' <<<"$out"
  else
    echo n/a
  fi
}

printf '%-14s %14s %14s %14s %14s\n' runner "pingpong ns" "stream MiB/s" \
  "dgram/s 1KiB" "connect us"
for r in "${runners[@]}"; do
  a=$(measure "$r" pingpong "$n")
  b=$(measure "$r" stream 256)
  c=$(measure "$r" dgram "$n")
  d=$(measure "$r" connect $((n / 10 + 1)))
  printf '%-14s %14s %14s %14s %14s\n' "$r" "$a" "$b" "$c" "$d"
done
