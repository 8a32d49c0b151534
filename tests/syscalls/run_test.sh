#!/usr/bin/env bash
# Runs one syscall test binary on one platform, applying expectations.txt.
#
#   run_test.sh --platform=P --binary=BIN --expectations=FILE [--sentry=SENTRY]
#   run_test.sh --check --expectations=FILE
#
# Expectations lines: `<platform> <gtest full name or pattern> <reason...>`;
# '#' starts a comment. For platform P the listed cases are excluded from the
# main run (a negative --gtest_filter); every other failure fails the target.
# Then each listed case runs alone, and one that passes is reported as
# "UNEXPECTED PASS: <case> (remove it from expectations.txt)" without failing
# the target, so fixes in the Sentry show up in the log.
#
# --check only validates the file (reason present, platform known): the
# expectations_check test.
set -uo pipefail

readonly KNOWN_PLATFORMS="native ptrace"
# Per-case limit for the expected-failure reruns: an expected failure may be
# a hang (e.g. fork not implemented yet).
readonly CASE_TIMEOUT_SECONDS=15

platform="" binary="" sentry="" expectations="" check_only=0
for arg in "$@"; do
  case "$arg" in
    --platform=*) platform="${arg#*=}" ;;
    --binary=*) binary="${arg#*=}" ;;
    --sentry=*) sentry="${arg#*=}" ;;
    --expectations=*) expectations="${arg#*=}" ;;
    --check) check_only=1 ;;
    *) echo "run_test.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

die() { echo "run_test.sh: $*" >&2; exit 2; }

[ -n "$expectations" ] || die "--expectations is required"
[ -r "$expectations" ] || die "cannot read $expectations"

# Validates every line; prints "<platform> <pattern>" for valid ones.
parse_expectations() {
  local lineno=0 bad=0 line plat pattern reason
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    line="${line%%#*}"
    # shellcheck disable=SC2086
    set -- $line
    [ $# -eq 0 ] && continue
    plat="$1" pattern="${2:-}"
    shift; [ $# -gt 0 ] && shift
    reason="$*"
    if [[ " $KNOWN_PLATFORMS " != *" $plat "* ]]; then
      echo "$expectations:$lineno: unknown platform '$plat' (known: $KNOWN_PLATFORMS)" >&2
      bad=1; continue
    fi
    if [[ ! "$pattern" =~ ^[A-Za-z0-9_*?/]+\.[A-Za-z0-9_*?/]+$ ]]; then
      echo "$expectations:$lineno: '$pattern' is not a gtest Suite.Name (wildcards * and ? allowed)" >&2
      bad=1; continue
    fi
    if [ -z "$reason" ]; then
      echo "$expectations:$lineno: $pattern: a reason is mandatory" >&2
      bad=1; continue
    fi
    echo "$plat $pattern"
  done < "$expectations"
  return $bad
}

parsed=$(parse_expectations) || exit 1
if [ "$check_only" = 1 ]; then
  echo "$expectations: $(printf '%s\n' "$parsed" | grep -c .) expectation(s), all well-formed"
  exit 0
fi

[ -n "$platform" ] || die "--platform is required"
[[ " $KNOWN_PLATFORMS " == *" $platform "* ]] || die "unknown platform $platform"
[ -n "$binary" ] && [ -x "$binary" ] || die "not an executable: '$binary'"
if [ "$platform" != native ]; then
  [ -n "$sentry" ] && [ -x "$sentry" ] || die "--sentry is required for $platform"
fi

# Patterns listed for this platform, ':'-joined for --gtest_filter.
expected=$(printf '%s\n' "$parsed" | awk -v p="$platform" '$1 == p { print $2 }')
negative=$(printf '%s\n' "$expected" | paste -sd: -)

# `bazel test --test_filter=X` reaches gtest as TESTBRIDGE_TEST_ONLY; keep it
# as the positive half of the filter.
positive="${TESTBRIDGE_TEST_ONLY:-*}"

# The binary must not try to write Bazel's files: `sentry run` cannot open
# files yet, and the several runs below would overwrite one another. The
# runner's own exit status is the test result.
unset XML_OUTPUT_FILE GTEST_OUTPUT TEST_PREMATURE_EXIT_FILE \
  TEST_SHARD_STATUS_FILE TESTBRIDGE_TEST_ONLY GTEST_FILTER
export SENTRY_TEST_PLATFORM="$platform"

# Runs the binary on $platform with the given gtest arguments. With
# TIMEOUT set, under timeout(1) with that many seconds.
run_binary() {
  local cmd=("$binary")
  # argv and the environment pass through `sentry run` unchanged.
  [ "$platform" = native ] || cmd=("$sentry" run --platform="$platform" "$binary")
  if [ -n "${TIMEOUT:-}" ]; then
    timeout -k 5 "$TIMEOUT" "${cmd[@]}" "$@"
  else
    "${cmd[@]}" "$@"
  fi
}

# Full names ("Suite.Name") of the cases matching a gtest filter.
list_cases() {
  run_binary --gtest_list_tests --gtest_filter="$1" 2>/dev/null |
    awk '/^[^ ]/ { suite = $1 } /^  [^ ]/ { print suite $1 }'
}

filter="$positive"
[ -n "$negative" ] && filter="$positive-$negative"
echo "=== $platform: $(basename "$binary") --gtest_filter=$filter"
run_binary --gtest_brief=0 --gtest_filter="$filter"
rc=$?
if [ "$rc" != 0 ]; then
  echo "=== FAILED: exit status $rc on $platform (cases not in expectations.txt failed)"
fi

# Rerun each expected failure alone, so that one that crashes the whole
# binary does not hide the others.
if [ -n "$expected" ]; then
  cases=$(list_cases "$negative")
  selected=$(list_cases "$positive")
  unexpected=0
  for c in $cases; do
    # Respect --test_filter: skip the cases it excludes.
    printf '%s\n' "$selected" | grep -qxF "$c" || continue
    out=$(TIMEOUT=$CASE_TIMEOUT_SECONDS run_binary --gtest_brief=0 --gtest_filter="$c" 2>&1)
    case_rc=$?
    if [ "$case_rc" = 0 ] && printf '%s\n' "$out" | grep -qF "[       OK ] $c "; then
      echo "UNEXPECTED PASS: $c (remove it from expectations.txt)"
      unexpected=$((unexpected + 1))
    else
      echo "expected failure: $c (exit status $case_rc)"
    fi
  done
  [ "$unexpected" = 0 ] || echo "=== $unexpected unexpected pass(es) on $platform"
fi

exit "$rc"
