#!/usr/bin/env bash
# Runs the same workloads natively, under each Sentry platform, and under
# gVisor's runsc when it is installed, in one run, and prints ratios to
# native. The machines are shared and noisy: only numbers from one run are
# comparable.
#
#   bench/run.sh [ITERATIONS]     (default 200000 getpid calls)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}

bazel build -c opt //cmd/sentry //tests/guests:getpid_loop_musl \
  //tests/guests:hello_musl >/dev/null 2>&1
sentry=bazel-bin/cmd/sentry/sentry
getpid=bazel-bin/tests/guests/musl/getpid_loop
hello=bazel-bin/tests/guests/musl/hello

runners=("native")
runner_cmd() {
  case "$1" in
    native) echo "" ;;
    sentry-ptrace) echo "$sentry run --platform=ptrace" ;;
    runsc-ptrace) echo "runsc --platform=ptrace --network=none do" ;;
  esac
}
runners+=("sentry-ptrace")
if command -v runsc >/dev/null 2>&1; then runners+=("runsc-ptrace"); fi

# Wall time in ms of `cmd` run `reps` times, averaged.
startup_ms() {
  local reps=$1; shift
  local start end
  start=$(date +%s%N)
  for ((i = 0; i < reps; i++)); do "$@" >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  echo "scale=2; ($end - $start) / 1000000 / $reps" | bc
}

printf '%-16s %14s %8s %16s %8s\n' runner "getpid ns/call" ratio "start+exit ms" ratio
native_ns=""
native_ms=""
for r in "${runners[@]}"; do
  cmd=$(runner_cmd "$r")
  # shellcheck disable=SC2086
  ns=$($cmd "$(realpath $getpid)" "$n" | awk '/ns_per_call/ {print $2}')
  # shellcheck disable=SC2086
  ms=$(startup_ms 20 $cmd "$(realpath $hello)")
  [ -z "$native_ns" ] && native_ns=$ns && native_ms=$ms
  printf '%-16s %14s %7sx %16s %7sx\n' "$r" "$ns" \
    "$(echo "scale=1; $ns / $native_ns" | bc)" "$ms" \
    "$(echo "scale=1; $ms / $native_ms" | bc)"
done
