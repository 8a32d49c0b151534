#!/usr/bin/env bash
# Debian's own dynamically linked programs, run natively and under
# `sentry run`, must print the same thing; a guest that writes all over the
# overlay must leave the host untouched.
#
# Where output legitimately differs, the comparison says so and why:
#  - `ls -la /`: /dev, /proc and /sys are the sandbox's own file systems,
#    not the host's, so their lines differ; every other line must match.
#  - /proc/self/status describes a different process (pid, memory): the
#    same fields must appear in the same order.
set -uo pipefail

SENTRY="${TEST_SRCDIR}/${TEST_WORKSPACE}/cmd/sentry/sentry"
WORK="${TEST_TMPDIR:-/tmp}/debian_programs.$$"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
failures=0
cases=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# compare NAME FILTER CMD...: runs CMD natively and in the sandbox, pipes
# both outputs (stdout+stderr, then the exit status) through FILTER.
compare() {
  local name="$1" filter="$2"
  shift 2
  cases=$((cases + 1))
  local native="$WORK/$name.native" sandboxed="$WORK/$name.sentry"
  { "$@" 2>&1; echo "exit $?"; } | eval "$filter" >"$native"
  eval "${BETWEEN:-true}"
  { "$SENTRY" run "$@" 2>&1; echo "exit $?"; } | eval "$filter" >"$sandboxed"
  if ! diff -u "$native" "$sandboxed" >"$WORK/$name.diff"; then
    fail "$name differs (native vs sentry run):"
    head -40 "$WORK/$name.diff"
  else
    echo "ok: $name ($(wc -l <"$native") lines)"
  fi
}

# Column widths depend on every line, /proc's ever-changing link count
# included: compare with runs of spaces squeezed.
compare ls_root "grep -v -E ' (dev|proc|sys)\$' | tr -s ' '" ls -la /
compare ls_usr_bin cat ls -l /usr/bin
compare stat_passwd cat stat /etc/passwd
compare find_headers cat find /usr/include -name '*.h'
compare proc_status "sed 's/:.*//'" cat /proc/self/status

head -c $((96 << 20)) /dev/urandom >"$WORK/big"
compare sha256_big cat sha256sum "$WORK/big"

cat >"$WORK/script.py" <<'PY'
import hashlib, json, pathlib, sqlite3, tempfile
db = pathlib.Path(tempfile.gettempdir()) / "sentry_programs_test.db"
con = sqlite3.connect(db)
con.execute("create table if not exists kv(k text primary key, v text)")
con.executemany("insert or replace into kv values(?, ?)",
                [(str(i), hashlib.sha256(str(i).encode()).hexdigest())
                 for i in range(500)])
con.commit()
rows = con.execute("select count(*), min(v), max(v) from kv").fetchone()
print(json.dumps({"rows": rows, "etc": sorted(p.name for p in
                  pathlib.Path("/etc").glob("pass*"))}, sort_keys=True))
con.close()
db.unlink()
PY
compare python3_stdlib cat /usr/bin/python3 "$WORK/script.py"

printf 'create table t(a, b);\ninsert into t values (1, "one"), (2, "two");\nselect a, b from t order by a desc;\n' >"$WORK/q.sql"
# The native run leaves its database behind: remove it before the sandboxed
# run, which must start from nothing too (and must not leave one on the host).
BETWEEN='rm -f "$WORK/cli.db"' compare sqlite3_cli cat sqlite3 -init "$WORK/q.sql" "$WORK/cli.db" .quit
if [ -e "$WORK/cli.db" ]; then fail "the sandboxed sqlite3 wrote its database to the host"; fi

# --- the host stays untouched --------------------------------------------
cases=$((cases + 1))
snapshot() {
  # Names, sizes, modes and contents of what the guest attacks below.
  { find /etc /usr/include/GL /usr/share/doc/bash -xdev -printf '%p %s %m %T@\n' 2>/dev/null | sort
    sha256sum /etc/passwd /etc/hostname 2>/dev/null; } | sha256sum
}
before=$(snapshot)
cat >"$WORK/vandal.py" <<'PY'
import os, shutil
os.remove("/etc/passwd")
with open("/etc/hostname", "w") as f: f.write("owned\n")
with open("/etc/new-file", "w") as f: f.write("x" * 100000)
shutil.rmtree("/usr/include/GL")
os.mkdir("/usr/include/GL")             # over a whiteout: opaque
with open("/usr/include/GL/gl.h", "w") as f: f.write("// not the real one\n")
os.chmod("/usr/share/doc/bash", 0o700)
os.symlink("/etc/shadow", "/usr/share/doc/bash/evil")
try:
    os.rename("/usr/share/doc/bash", "/usr/share/doc/bash2")
except OSError as e:
    print("rename of a lower directory:", e.strerror)
os.rename("/etc/hostname", "/etc/hostname.old")
# What the guest sees now:
print(os.path.exists("/etc/passwd"), open("/etc/hostname.old").read().strip(),
      sorted(os.listdir("/usr/include/GL")), oct(os.stat("/usr/share/doc/bash").st_mode & 0o777))
PY
out=$("$SENTRY" run /usr/bin/python3 "$WORK/vandal.py" 2>&1)
expected="rename of a lower directory: Invalid cross-device link
False owned ['gl.h'] 0o700"
if [ "$out" != "$expected" ]; then
  fail "vandal.py saw:"; echo "$out"
else
  echo "ok: the guest's changes are visible inside the sandbox"
fi
after=$(snapshot)
if [ "$before" != "$after" ]; then
  fail "the host changed after the guest wrote all over the overlay"
else
  echo "ok: host unchanged"
fi

# --- --overlay=dir:PATH keeps the changes, in overlayfs's own format ------
cases=$((cases + 1))
upper="$WORK/upper"
mkdir -p "$upper"
before=$(snapshot)
"$SENTRY" run --overlay=dir:"$upper" /usr/bin/python3 -c '
import os, shutil
os.remove("/etc/passwd")
shutil.rmtree("/usr/include/GL"); os.mkdir("/usr/include/GL")
open("/usr/include/GL/kept.h", "w").write("kept\n")'
second=$("$SENTRY" run --overlay=dir:"$upper" /usr/bin/python3 -c '
import os
print(os.path.exists("/etc/passwd"), os.listdir("/usr/include/GL"))')
if [ "$second" != "False ['kept.h']" ]; then
  fail "a second run on the kept upper saw: $second"
elif [ ! -c "$upper/etc/passwd" ] || [ "$(cat "$upper/usr/include/GL/kept.h")" != kept ]; then
  fail "the upper directory does not hold a whiteout and the new file"
elif [ "$before" != "$(snapshot)" ]; then
  fail "the host changed outside the upper directory"
else
  echo "ok: --overlay=dir keeps changes across runs, host unchanged"
fi

echo "debian programs: $((cases - failures)) of $cases passed"
[ "$failures" -eq 0 ]
