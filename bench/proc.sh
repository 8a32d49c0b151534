#!/usr/bin/env bash
# Process costs natively, under the Sentry and under runsc (if installed),
# in one run: fork+exit+wait, fork of a process with 100 MiB touched,
# fork+execve of a static true, and clock_gettime. (Futex ping-pong and
# thread creation: bench/futex.sh.)
#
#   bench/proc.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
bazel build -c opt //cmd/sentry //bench:proc_bench_bin //bench:static_true \
  >/dev/null 2>&1
sentry=$(realpath bazel-bin/cmd/sentry/sentry)
prog=$(realpath bazel-bin/bench/proc_bench)
truebin=$(realpath bazel-bin/bench/static_true)

declare -A cmd=([native]="" [sentry-ptrace]="$sentry run --platform=ptrace")
runners=(native sentry-ptrace)
if command -v runsc >/dev/null 2>&1; then
  cmd[runsc-ptrace]="runsc --platform=ptrace --network=none do"
  runners+=(runsc-ptrace)
fi
printf '%-14s %16s %16s %16s %18s\n' runner "fork+wait us" \
  "fork 100MiB us" "fork+exec us" "clock_gettime ns"
for r in "${runners[@]}"; do
  # shellcheck disable=SC2086
  a=$(${cmd[$r]} "$prog" fork_wait "$n" | awk '{print $2}')
  # shellcheck disable=SC2086
  b=$(${cmd[$r]} "$prog" fork_100m $((n / 10 + 1)) | awk '{print $2}')
  # shellcheck disable=SC2086
  c=$(${cmd[$r]} "$prog" exec_true "$n" "$truebin" | awk '{print $2}')
  # shellcheck disable=SC2086
  d=$(${cmd[$r]} "$prog" clock_gettime 100000 | awk '{print $2}')
  printf '%-14s %16s %16s %16s %18s\n' "$r" "$a" "$b" "$c" "$d"
done
