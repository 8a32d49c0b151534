#!/usr/bin/env bash
# File-system costs, natively, under the Sentry and under runsc (if
# installed), in one run: stat, open+read+close, and 64 KiB sequential
# write/read throughput. Each runner works in its own view of /tmp: the
# Sentry's and runsc's is an overlay in sandbox memory.
#
#   bench/fs.sh [ITERATIONS] [MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
mib=${2:-256}
bazel build -c opt //cmd/sentry //bench:fs_bench_bin >/dev/null 2>&1
sentry=$(realpath bazel-bin/cmd/sentry/sentry)
prog=$(realpath bazel-bin/bench/fs_bench)

declare -A cmd=([native]="" [sentry-ptrace]="$sentry run --platform=ptrace")
runners=(native sentry-ptrace)
if command -v runsc >/dev/null 2>&1; then
  cmd[runsc-ptrace]="runsc --platform=ptrace --network=none do"
  runners+=(runsc-ptrace)
fi

printf '%-14s %10s %18s %14s %14s\n' runner "stat ns" "open+read+close ns" \
  "write MiB/s" "read MiB/s"
for r in "${runners[@]}"; do
  # shellcheck disable=SC2086
  out=$(${cmd[$r]} "$prog" /tmp "$n" "$mib")
  get() { awk -v k="$1" '$1 == k {print $2}' <<<"$out"; }
  printf '%-14s %10s %18s %14s %14s\n' "$r" "$(get stat_ns)" \
    "$(get open_read_close_ns)" "$(get write_mib_s)" "$(get read_mib_s)"
done
