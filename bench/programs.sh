#!/usr/bin/env bash
# Wall time of the real-program workloads (tests/programs/real_programs.sh:
# bash, coreutils, grep/sed/awk, find, tar+gzip, make+gcc, python3, perl,
# git) natively, under `sentry run` and under runsc (if installed), in one
# run: each repetition runs every case once per runner, interleaved
# (native, sentry, runsc), and the table shows the median of N per case,
# the total of those medians, and each as a ratio to native. Then the
# start-up time of /bin/true, median of 20 runs, interleaved likewise.
#
#   bench/programs.sh [N]      (default 3 repetitions)
#   SENTRY=path/to/sentry bench/programs.sh   (skips the bazel build)
#   BENCH_CASES="a b" ...      only these cases
#
# A time marked "!" is from a run whose output or exit status differed from
# the native run's (tests/programs/real_programs_test.sh says how); a case
# that times out (BENCH_TIMEOUT, default 60 s) is shown as "timeout", is not
# run again for that runner, and is left out of every runner's total.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
timeout_s=${BENCH_TIMEOUT:-60}
if [ -z "${SENTRY:-}" ]; then
  bazel build -c opt //cmd/sentry >/dev/null 2>&1
  SENTRY=$(realpath bazel-bin/cmd/sentry/sentry)
fi
# shellcheck source=../tests/programs/real_programs.sh
. tests/programs/real_programs.sh
if [ -n "${BENCH_CASES:-}" ]; then
  read -ra cases <<<"$BENCH_CASES"
else
  cases=("${RP_CASES[@]}")
fi

declare -A cmd=([native]="" [sentry]="$SENTRY run")
runners=(native sentry)
if command -v runsc >/dev/null 2>&1; then
  cmd[runsc]="runsc --platform=ptrace --network=none do"
  runners+=(runsc)
fi

out=$(mktemp -d /tmp/bench-programs.XXXXXX)
base="/tmp/sentry-programs-bench.$$"
trap 'rm -rf "$out" "$base".*' EXIT
# runsc do fails with EINVAL on a host working directory it did not create
# itself; / works for every runner.
cd /

# time_ms CMD...: runs CMD with stdin from /dev/null, its stdout and stderr
# through a pipe into $out/last (runsc do does not share one file offset
# between a guest's stdout and stderr), and prints the wall time in ms, or
# "timeout".
time_ms() {
  local start end status
  start=$(now_us)
  set +e
  timeout -k 5 "$timeout_s" "$@" </dev/null 2>&1 | cat >"$out/last"
  status=${PIPESTATUS[0]}
  set -e
  end=$(now_us)
  echo "--- exit status $status" >>"$out/last"
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo timeout
  else
    echo $(((end - start) / 1000))
  fi
}

# Microseconds since the epoch, without forking date(1) (whose own cost
# would be counted).
now_us() {
  echo "${EPOCHREALTIME/./}"
}

# div A B: A / B to one decimal.
div() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'
}

median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'
}

declare -A times timedout differs
for ((rep = 1; rep <= n; rep++)); do
  for c in "${cases[@]}"; do
    for r in "${runners[@]}"; do
      [ -n "${timedout[$c/$r]:-}" ] && continue
      w="$base.$c"
      rm -rf "$w" "$w".*
      rp_command "$c" "$w"
      # shellcheck disable=SC2086
      t=$(time_ms ${cmd[$r]} "${RP_CMD[@]}")
      rm -rf "$w" "$w".*
      if [ "$t" = timeout ]; then
        timedout[$c/$r]=1
        continue
      fi
      times[$c/$r]+="$t "
      filter=$(rp_filter "$c")
      sed -E "$filter" "$out/last" >"$out/$r"
      if [ "$r" != native ] && ! cmp -s "$out/native" "$out/$r"; then
        differs[$c/$r]=1
      fi
    done
  done
done

declare -A med total
for r in "${runners[@]}"; do total[$r]=0; done
printf '%-24s' case
for r in "${runners[@]}"; do
  if [ "$r" = native ]; then printf ' %10s' "native ms"; else printf ' %10s %7s' "$r ms" ratio; fi
done
echo
for c in "${cases[@]}"; do
  complete=1
  for r in "${runners[@]}"; do
    if [ -n "${timedout[$c/$r]:-}" ]; then
      med[$c/$r]=timeout
      complete=
    else
      med[$c/$r]=$(echo "${times[$c/$r]:-}" | tr ' ' '\n' | grep . | median)
    fi
  done
  printf '%-24s' "$c"
  for r in "${runners[@]}"; do
    m=${med[$c/$r]}
    mark=" "
    [ -n "${differs[$c/$r]:-}" ] && mark="!"
    if [ "$r" = native ]; then
      printf ' %10s' "$m"
    elif [ "$m" = timeout ] || [ "${med[$c/native]}" = timeout ]; then
      printf ' %10s %7s' "$m" "-"
    else
      printf ' %9s%s %6sx' "$m" "$mark" "$(div "$m" "${med[$c/native]}")"
    fi
  done
  echo
  if [ -n "$complete" ]; then
    for r in "${runners[@]}"; do total[$r]=$((total[$r] + med[$c/$r])); done
  fi
done
printf '%-24s' "total (completed cases)"
for r in "${runners[@]}"; do
  if [ "$r" = native ]; then
    printf ' %10s' "${total[native]}"
  else
    printf ' %10s %6sx' "${total[$r]}" "$(div "${total[$r]}" "${total[native]}")"
  fi
done
echo

# Start-up: /bin/true, 20 runs per runner, interleaved; median in ms.
declare -A startup
for ((i = 0; i < 20; i++)); do
  for r in "${runners[@]}"; do
    start=${EPOCHREALTIME/./}
    # shellcheck disable=SC2086
    ${cmd[$r]} /bin/true </dev/null >/dev/null 2>&1 || true
    end=${EPOCHREALTIME/./}
    startup[$r]+="$(((end - start) / 100)) "
  done
done
printf '%-24s' "start-up /bin/true ms"
for r in "${runners[@]}"; do
  # tenths of a millisecond, median, shown in ms
  m=$(echo "${startup[$r]}" | tr ' ' '\n' | grep . | median)
  [ "$r" = native ] && native_startup=$m
  if [ "$r" = native ]; then
    printf ' %10s' "$(div "$m" "10")"
  else
    printf ' %10s %6sx' "$(div "$m" "10")" "$(div "$m" "$native_startup")"
  fi
done
echo
