#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: natively and under
# the Sentry, then the same suite under ASan+UBSan. This is the README's test
# command and exactly what CI runs.
#
#   tools/test.sh            # default suite (what CI runs)
#   tools/test.sh --quick    # skip the ASan+UBSan pass
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

tools/install-deps.sh

ci_flags=()
[ -n "${CI:-}" ] && ci_flags=(--config=ci)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
bazel test "${ci_flags[@]}" //... 2>&1 | tee -a "$log" || rc=1
if [ "$quick" = 0 ]; then
  bazel test "${ci_flags[@]}" --config=asan //... 2>&1 | tee -a "$log" || rc=1
fi
# One closing line over both passes: each Bazel test target counts once per
# pass.
passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(PASSED|FLAKY)' "$log" || true)
failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS)' "$log" || true)
if [ "$rc" != 0 ]; then
  echo "tests: $passed passed, $failed failed"
  exit 1
fi
# The checked-in compatibility report must match the syscall table.
bazel run "${ci_flags[@]}" //cmd/sentry -- syscalls --format=markdown \
  > /tmp/sentry-compat.$$ 2>/dev/null
if ! diff -u docs/compatibility.md /tmp/sentry-compat.$$; then
  rm -f /tmp/sentry-compat.$$
  echo "docs/compatibility.md is stale: run tools/gen-docs.sh" >&2
  exit 1
fi
rm -f /tmp/sentry-compat.$$
echo "tests: $passed passed, $failed failed"
