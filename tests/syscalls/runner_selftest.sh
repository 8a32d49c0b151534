#!/usr/bin/env bash
# Tests run_test.sh against runner_selftest_bin and fake_sentry.sh.
set -uo pipefail
d=tests/syscalls
runner=$d/run_test.sh
common=(--binary=$d/runner_selftest_bin --sentry=$d/fake_sentry.sh
  --expectations=$d/runner_selftest_expectations.txt)
fail=0
check() {  # check <description> <condition...>
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}

out=$("$runner" --platform=ptrace "${common[@]}" 2>&1); rc=$?
echo "$out"
check "ptrace run passes with listed failures" [ "$rc" = 0 ]
check "unexpected pass reported" grep -qF \
  "UNEXPECTED PASS: Selftest.PassesButListed (remove it from expectations.txt)" <<<"$out"
check "expected failure reported" grep -qF "expected failure: Selftest.FailsOnPtrace" <<<"$out"
check "listed cases excluded from main run" grep -qF \
  -- "--gtest_filter=*-Selftest.FailsOnPtrace:Selftest.PassesBut*" <<<"$out"

out=$(SELFTEST_FAIL=1 "$runner" --platform=ptrace "${common[@]}" 2>&1); rc=$?
check "unlisted failure fails the target" [ "$rc" != 0 ]

out=$("$runner" --platform=native "${common[@]}" 2>&1); rc=$?
echo "$out"
check "native run passes" [ "$rc" = 0 ]
check "native listed case reported as unexpected pass" grep -qF \
  "UNEXPECTED PASS: Selftest.FailsWhenAsked" <<<"$out"

out=$(TESTBRIDGE_TEST_ONLY=Selftest.Passes "$runner" --platform=ptrace "${common[@]}" 2>&1); rc=$?
check "--test_filter honoured" [ "$rc" = 0 ]
check "--test_filter skips listed reruns" bash -c '! grep -q "Selftest.PassesButListed" <<<"$0"' "$out"

bad=$TEST_TMPDIR/bad.txt
printf 'ptrace Selftest.Passes\n' >"$bad"
check "--check rejects a missing reason" bash -c '! "$0" --check --expectations="$1"' "$runner" "$bad"
printf 'kvm Selftest.Passes because\n' >"$bad"
check "--check rejects an unknown platform" bash -c '! "$0" --check --expectations="$1"' "$runner" "$bad"
check "--check accepts the selftest file" "$runner" --check --expectations=$d/runner_selftest_expectations.txt

exit $fail
