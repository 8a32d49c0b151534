#!/usr/bin/env bash
# Real programs (bash, coreutils, grep, sed, awk, find, tar and gzip, make
# and gcc, python3, perl, git), each run natively and under `sentry run`:
# stdout+stderr (one stream, in the order written) and the exit status must
# be the same, and the sandboxed run must leave the host unchanged. The
# workloads are defined in real_programs.sh (shared with
# bench/programs.sh).
#
# usage: real_programs_test.sh [SENTRY]   (or SENTRY=... in the
# environment; under `bazel test` the sentry comes from the runfiles)
#   RP_ONLY="a b"    run only these cases
#   RP_TIMEOUT=30    seconds a run may take before it is killed, at least
#                    (a sandboxed run gets 15 times the native run's time
#                    if that is more)
#   RP_KEEP=1        keep the outputs (printed at the end)
#
# Every case runs with a fresh work directory $W: /tmp/sentry-programs.*
# (under $TEST_TMPDIR where /tmp is not writable), the same path natively
# and sandboxed since it appears in the output. Natively it lands on the
# host and is removed before the sandboxed run, which must create it in its
# overlay only. After each sandboxed run:
#  - nothing named /tmp/sentry-programs.<this run>* exists on the host
#    (coreutils_files also writes $W.outside, next to $W);
#  - /etc, Python's library directories, /var/tmp and the names in the
#    user's real home (where a stray git config or shell history would
#    land) are unchanged: names, sizes, modes, mtimes. (Not /dev/shm:
#    native runs of python's multiprocessing and other users of the
#    machine change it; the sandbox has its own.)
# A host change fails the test even for a case listed as an expected
# failure.
set -uo pipefail

if [ $# -gt 0 ]; then
  SENTRY="$1"
elif [ -z "${SENTRY:-}" ]; then
  SENTRY="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-}/cmd/sentry/sentry"
fi
if [ ! -x "$SENTRY" ]; then
  echo "no sentry binary at $SENTRY (pass one as the first argument)" >&2
  exit 2
fi
if [ -n "${TEST_SRCDIR:-}" ] && [ -f "$TEST_SRCDIR/$TEST_WORKSPACE/tests/programs/real_programs.sh" ]; then
  HERE="$TEST_SRCDIR/$TEST_WORKSPACE/tests/programs"
else
  HERE="$(cd "$(dirname "$0")" && pwd)"
fi
# shellcheck source=real_programs.sh
. "$HERE/real_programs.sh"
for prog in bash gcc make "$RP_PYTHON" perl git tar gzip; do
  if ! command -v "$prog" >/dev/null; then
    echo "$prog is missing: run tools/install-deps.sh" >&2
    exit 2
  fi
done

# Expected failures: one line per case, naming the Sentry bug or gap
# responsible. Such a case is reported as "XFAIL: case (reason)" and does
# not fail the test; one that passes is reported as "XPASS" and fails it,
# so that this list stays honest: once the Sentry is fixed, delete the
# line. Nothing that differs for any other reason belongs here.
xfail_reason() {
  case "$1" in
    *) return 1 ;;
  esac
}

MIN_TIMEOUT="${RP_TIMEOUT:-30}"
OUT="$(mktemp -d "${TEST_TMPDIR:-/tmp}/real_programs.XXXXXX")"
# The work directories' common prefix, unique to this run.
TMP_BASE=/tmp
if [ ! -w "$TMP_BASE" ]; then TMP_BASE="${TEST_TMPDIR:?/tmp is not writable}"; fi
BASE="$TMP_BASE/sentry-programs.$$.$RANDOM"
cleanup() {
  rm -rf "$BASE".*
  if [ -n "${RP_KEEP:-}" ]; then
    echo "outputs kept in $OUT"
  else
    rm -rf "$OUT"
  fi
}
trap cleanup EXIT
cd /

# run_one CASE OUT SECONDS PREFIX... : runs CASE (with PREFIX, none for
# native) for at most SECONDS into OUT: its stdout and stderr, then its exit
# status.
run_one() {
  local name="$1" out="$2" seconds="$3"
  shift 3
  rp_command "$name" "$BASE.$name" || return 1
  # The outer 2>/dev/null silences bash's report of a run killed by a signal.
  {
    timeout -k 5 "$seconds" "$@" "${RP_CMD[@]}" </dev/null >"$out" 2>&1
  } 2>/dev/null
  echo "--- exit status $?" >>"$out"
}

# The user's real home (under Bazel, $HOME is the test's own directory).
REAL_HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
snapshot() {
  {
    find /etc /usr/lib/python3 /usr/lib/python3.* /var/tmp -xdev \
      -printf '%p %s %m %T@\n' 2>/dev/null | sort
    ls -a "${REAL_HOME:-/root}"
  } | sha256sum
}

total=0
passed=0
xfailed=0
failed_names=()
if [ -n "${RP_ONLY:-}" ]; then
  read -ra selected <<<"$RP_ONLY"
else
  selected=("${RP_CASES[@]}")
fi

for name in "${selected[@]}"; do
  total=$((total + 1))
  native="$OUT/$name.native"
  sandboxed="$OUT/$name.sentry"
  # host_problems are never expected; problems (the output) may be.
  problems=()
  host_problems=()
  rm -rf "$BASE.$name" "$BASE.$name".*
  t0=$(date +%s%N)
  run_one "$name" "$native" "$MIN_TIMEOUT"
  t1=$(date +%s%N)
  rm -rf "$BASE.$name" "$BASE.$name".*
  if grep -q 'command not found' "$native"; then
    host_problems+=("the native run is missing a program")
  fi
  before=$(snapshot)
  t2=$(date +%s%N)
  seconds=$(((t1 - t0) * 15 / 1000000000))
  [ "$seconds" -ge "$MIN_TIMEOUT" ] || seconds="$MIN_TIMEOUT"
  run_one "$name" "$sandboxed" "$seconds" "$SENTRY" run
  t3=$(date +%s%N)
  leftovers=$(compgen -G "$BASE*")
  if [ -n "$leftovers" ]; then
    host_problems+=("the sandboxed run left on the host: $leftovers")
    rm -rf "$BASE".*
  fi
  if [ "$before" != "$(snapshot)" ]; then
    host_problems+=("the host changed (/etc, python's lib, /var/tmp or $REAL_HOME) during the sandboxed run")
  fi
  filter=$(rp_filter "$name")
  if [ -n "$filter" ]; then
    sed -E "$filter" "$native" >"$native.f"
    sed -E "$filter" "$sandboxed" >"$sandboxed.f"
  else
    cp "$native" "$native.f"
    cp "$sandboxed" "$sandboxed.f"
  fi
  if ! diff -u --label "native $name" --label "sentry $name" \
    "$native.f" "$sandboxed.f" >"$OUT/$name.diff"; then
    problems+=("output differs (native vs sentry run)")
  fi
  times="native $(((t1 - t0) / 1000000)) ms, sentry $(((t3 - t2) / 1000000)) ms"
  status=$(tail -1 "$native" | sed 's/--- //')
  if [ ${#host_problems[@]} -gt 0 ]; then
    echo "FAIL: $name ($times)"
    printf '    %s\n' "${host_problems[@]}" "${problems[@]}"
    failed_names+=("$name")
  elif [ ${#problems[@]} -eq 0 ]; then
    if reason=$(xfail_reason "$name"); then
      echo "XPASS: $name passes, but is listed as an expected failure ($reason)"
      failed_names+=("$name(XPASS)")
    else
      echo "ok: $name ($(wc -l <"$native") lines, $status; $times)"
      passed=$((passed + 1))
    fi
  elif reason=$(xfail_reason "$name"); then
    echo "XFAIL: $name ($reason)"
    xfailed=$((xfailed + 1))
  else
    echo "FAIL: $name ($times)"
    printf '    %s\n' "${problems[@]}"
    sed 's/^/    /' "$OUT/$name.diff" | head -80
    failed_names+=("$name")
  fi
done

echo "real programs: $passed passed, $xfailed expected failures, ${#failed_names[@]} failed, of $total"
if [ ${#failed_names[@]} -gt 0 ]; then
  echo "failed: ${failed_names[*]}"
  exit 1
fi
