#!/usr/bin/env bash
# Smoke test of tools/compat-report, without Bazel-built binaries: a bin dir
# of fake gtest binaries (shell scripts printing gtest's lines), run with an
# empty prefix, a prefix that fails everything, a fake `sentry` and a
# timeout. Checks the counts, the marks and the SENTRY_TEST_PLATFORM rule.
#
#   tools/compat_report_test.sh      (or bazel test //tools:compat_report_test)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
report=$here/compat-report
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/compat_report_test.XXXXXX")
trap 'rm -rf "$work"' EXIT
bins=$work/bins
mkdir -p "$bins" "$work/fakebin"

fail=0
check() {  # check <description> <command...>
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}

# --- the fake binaries -----------------------------------------------------

# Five cases: one passes, two fail (one parameterized), one skips natively
# only, one checks the environment the report promises.
cat >"$bins/fake_test_bin" <<'EOF'
#!/bin/sh
echo "Running main() from gtest_main.cc"
case "$1" in --gtest_list_tests)
  printf 'Fake.\n  Passes\n  Fails\n  SkipsNatively\n  Env\n'
  printf 'Param/Fake.\n  Case/0  # GetParam() = 1\n'
  exit 0;;
esac
echo "[ RUN      ] Fake.Passes"
echo "[       OK ] Fake.Passes (0 ms)"
echo "[ RUN      ] Fake.Fails"
echo "[  FAILED  ] Fake.Fails (1 ms)"
echo "[ RUN      ] Fake.SkipsNatively"
if [ "$SENTRY_TEST_PLATFORM" = native ]; then
  echo "[  SKIPPED ] Fake.SkipsNatively (0 ms)"
else
  echo "[       OK ] Fake.SkipsNatively (0 ms)"
fi
echo "[ RUN      ] Fake.Env"
if [ -d "$TEST_TMPDIR" ] && touch "$TEST_TMPDIR/probe" &&
   [ -z "${XML_OUTPUT_FILE:-}" ] && [ -n "$SENTRY_TEST_PLATFORM" ]; then
  echo "[       OK ] Fake.Env (0 ms)"
else
  echo "[  FAILED  ] Fake.Env (0 ms)"
fi
echo "[ RUN      ] Param/Fake.Case/0"
echo "[  FAILED  ] Param/Fake.Case/0, where GetParam() = 1 (0 ms)"
echo "[  FAILED  ] 2 tests, listed below:"
echo "[  FAILED  ] Fake.Fails"
echo "[  FAILED  ] Param/Fake.Case/0, where GetParam() = 1"
exit 1
EOF

# Passes one case, then dies in the second: the third never runs.
cat >"$bins/crash_test_bin" <<'EOF'
#!/bin/sh
case "$1" in --gtest_list_tests)
  printf 'Crash.\n  First\n  Second\n  Third\n'; exit 0;;
esac
echo "[ RUN      ] Crash.First"
echo "[       OK ] Crash.First (0 ms)"
echo "[ RUN      ] Crash.Second"
kill -SEGV $$
EOF

# Hangs in its second case in a child process, which the timeout must kill
# too (its pid is appended to $FAKE_PID_FILE).
cat >"$bins/hang_test_bin" <<'EOF'
#!/bin/sh
case "$1" in --gtest_list_tests)
  printf 'Hang.\n  A\n  B\n'; exit 0;;
esac
echo "[ RUN      ] Hang.A"
echo "[       OK ] Hang.A (0 ms)"
echo "[ RUN      ] Hang.B"
sleep 1000 &
echo $! >>"$FAKE_PID_FILE"
wait
EOF

# Never part of the report.
cp "$bins/fake_test_bin" "$bins/runner_selftest_bin"

# Bazel's genrule output (<name>_bin.out) beats an older hand-built _bin.
printf '#!/bin/sh\n[ "$1" != --gtest_list_tests ] || printf "Old.\\n  A\\n"\n' \
  >"$bins/dup_test_bin"
printf '#!/bin/sh\n[ "$1" != --gtest_list_tests ] || printf "New.\\n  A\\n  B\\n"\n' \
  >"$bins/dup_test_bin.out"
touch -d '2020-01-01' "$bins/dup_test_bin"

# A stand-in for `sentry run [--platform=P] BIN ARGS`: runs BIN directly.
cat >"$work/fakebin/sentry" <<'EOF'
#!/bin/sh
shift  # run
case "$1" in --platform=*) shift;; esac
exec "$@"
EOF
chmod +x "$bins"/* "$work/fakebin/sentry"

# --- runs --------------------------------------------------------------------

export FAKE_PID_FILE=$work/hang.pid
json=$work/report.json
out=$("$report" --bin-dir "$bins" --timeout 3 --jobs 2 --json "$json" \
  --failures native= broken=false \
  "sentry=$work/fakebin/sentry run --platform=kvm" wrapped=env \
  --platform wrapped=other 2>"$work/stderr")
rc=$?
echo "$out"
check "report exits 0" [ "$rc" = 0 ]
check "runner_selftest_bin left out" bash -c '! grep -q "^runner_selftest" <<<"$0"' "$out"

# Field checks on the JSON: jq-like, with python3 (which the tool needs).
jget() {  # jget <python expression on d> -> printed value
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$json" "$1"
}
counts() {  # counts <binary> <label> -> "pass fail skip"
  jget "' '.join(str(d['binaries']['$1']['runs']['$2'][k]) for k in ('passed','failed','skipped'))"
}
check "fake_test: 5 cases listed" [ "$(jget "d['binaries']['fake_test']['total']")" = 5 ]
check "native: 2 pass 2 fail 1 skip" [ "$(counts fake_test native)" = "2 2 1" ]
check "fake sentry: skips nothing" [ "$(counts fake_test sentry)" = "3 2 0" ]
check "prefix that fails everything: all 5 failed" [ "$(counts fake_test broken)" = "0 5 0" ]
check "failing prefix marked crashed" [ "$(jget "d['binaries']['fake_test']['runs']['broken']['state']")" = crashed ]
check "platform: native for an empty prefix" [ "$(jget "d['prefixes'][0]['platform']")" = native ]
check "platform: sentry's --platform value" [ "$(jget "d['prefixes'][2]['platform']")" = kvm ]
check "platform: --platform LABEL=NAME" [ "$(jget "d['prefixes'][3]['platform']")" = other ]
check "crash: 1 pass, 2 fail" [ "$(counts crash_test native)" = "1 2 0" ]
check "crash: noted with the case it died in" \
  grep -q "native: crash_test: killed by SIGSEGV in Crash.Second" <<<"$out"
check "crash: marked ! in the table" grep -qE "^crash_test +3 +1 +2 +0!" <<<"$out"
check "timeout: 1 pass, 1 fail" [ "$(counts hang_test native)" = "1 1 0" ]
check "timeout: marked T, noted" bash -c 'grep -qE "^hang_test +2 +1 +1 +0T" <<<"$0" &&
  grep -q "native: hang_test: timed out after 3s in Hang.B" <<<"$0"' "$out"
# Killed: gone, or a zombie waiting for init to reap it.
dead() {
  local pid
  for pid in $(cat "$FAKE_PID_FILE"); do
    [ ! -e "/proc/$pid" ] || grep -qE '^[0-9]+ \(.*\) [ZX] ' "/proc/$pid/stat" ||
      return 1
  done
}
check "timeout: 3 hung children recorded" [ "$(wc -l <"$FAKE_PID_FILE")" = 3 ]
check "timeout: the hung children were killed" dead
check "newer _bin.out chosen over _bin" [ "$(jget "d['binaries']['dup_test']['total']")" = 2 ]
# native: fake 5 (2/2/1) + crash 3 (1/2/0) + hang 2 (1/1/0) + dup 2 (0/2/0)
check "TOTAL row" grep -qE "^TOTAL +12 +4 +7 +1  " <<<"$out"
check "JSON totals add up" [ "$(jget "sorted(d['totals']['native'].items())")" = \
  "[('failed', 7), ('passed', 4), ('skipped', 1), ('total', 12)]" ]
check "passed % row" grep -qE "^passed % +33\.3%" <<<"$out"
check "--failures lists parameterized names" grep -qF "  fake_test: Param/Fake.Case/0" <<<"$out"
check "--failures marks unreported cases" grep -qF "  crash_test: Crash.Third  (no result)" <<<"$out"

# A non-sandbox command prefix stays "native" (no host-modifying cases).
"$report" --bin-dir "$bins" --filter '^fake' --json "$json" -q wrapped=env >/dev/null
check "non-sandbox prefix counts as native" [ "$(counts fake_test wrapped)" = "2 2 1" ]

# --- bad input: one line on stderr, exit status 2 -----------------------------

bad() {  # bad <description> <args...>
  local what=$1; shift
  local err; err=$("$report" "$@" 2>&1 >/dev/null); local rc=$?
  check "$what: exit 2" [ "$rc" = 2 ]
  check "$what: one line ($err)" [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]
}
bad "missing bin dir" --bin-dir "$work/nonexistent" native=
bad "unknown command in a prefix" --bin-dir "$bins" "x=$work/no/such/runtime do"
bad "unbalanced quote in a prefix" --bin-dir "$bins" "x=env 'oops"
bad "nothing matches --filter" --bin-dir "$bins" --filter '^zzz' native=
bad "--platform for an unknown label" --bin-dir "$bins" --platform nope=x native=
bad "--json into a missing directory" --bin-dir "$bins" --json "$work/no/dir/r.json" native=

exit $fail
