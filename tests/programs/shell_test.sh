#!/usr/bin/env bash
# Shell scripts run by Debian's dash and by busybox's ash, natively and under
# `sentry run`: stdout, stderr and the exit status must be identical.
#
# Every case is a small script written below with `sh_case NAME <<'SH'`.
# Each case runs four times: dash and `busybox sh`, each natively and
# sandboxed, always from a fresh, empty working directory (the same path
# both times, so `pwd` matches) with stdin from the same file. All cases
# run even when one fails; a summary follows.
#
# usage: shell_test.sh [SENTRY]   (or SENTRY=... in the environment; under
# `bazel test` the sentry comes from the test's runfiles)
#
# Scripts write temporary files under /tmp: natively they land on the host
# (and are removed), sandboxed they land in the memory overlay.
#
# When a background job is killed, whether the shell reports it
# ("Terminated") depends on whether it reaps the job inside `wait` or a
# moment before, in another command: those `wait`s have stderr discarded.
#
# The sandboxed shell is PID 1 of its sandbox, the native one is not. As in
# a Linux PID namespace, init drops default-action signals sent by other
# processes, so scripts never rely on another process killing $$ with a
# signal it does not trap; they use a nested `sh -c` for that.
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
DASH=/usr/bin/dash
BUSYBOX=/bin/busybox
for prog in "$DASH" "$BUSYBOX"; do
  if [ ! -x "$prog" ]; then
    echo "$prog is missing: run tools/install-deps.sh (dash, busybox-static)" >&2
    exit 2
  fi
done

# Expected failures, as "SHELL/CASE" glob patterns (SHELL is dash or
# busybox), each with the missing feature responsible. Such a case is
# reported as "XFAIL SHELL/CASE: reason" and does not fail the test; one that
# passes is reported as "XPASS" and does fail it, so that this list stays
# honest. Only known-missing features belong here (threads, sockets, job
# control: SIGSTOP/SIGTSTP/SIGCONT); anything else that differs is a bug.
xfail_reason() {
  case "$1" in
    *) return 1 ;;
  esac
}

WORK="${TEST_TMPDIR:-/tmp}/shell_test.$$"
CASES="$WORK/cases"
CWD="$WORK/cwd"
INPUT="$WORK/input.txt"
# Per run: generous, but a hang must not stall the whole test.
RUN_TIMEOUT=10
mkdir -p "$CASES" "$WORK/out"
trap 'rm -rf "$WORK"' EXIT
printf '%s\n' "first line of stdin" "second  line" "third:line:with:colons" \
  "" "last line" >"$INPUT"

total=0
passed=0
failed=0
xfailed=0
xpassed=0
failed_names=()

# run_one MODE SHELL SCRIPT OUT: runs SCRIPT with SHELL (dash|busybox),
# natively or under the sentry (MODE native|sentry) and writes OUT: the
# script's stdout, its stderr unless NOSTDERR is set, and its exit status.
run_one() {
  local mode="$1" shell="$2" script="$3" out="$4"
  local -a cmd=() prefix=()
  case "$shell" in
    dash) cmd=("$DASH") ;;
    busybox) cmd=("$BUSYBOX" sh) ;;
  esac
  if [ "$mode" = sentry ]; then
    prefix=("$SENTRY" run)
  fi
  rm -rf "$CWD"
  mkdir "$CWD"
  # The outer 2>/dev/null silences bash's own report of a run killed by a
  # signal ("Terminated"): the status says it.
  {
    (cd "$CWD" &&
      exec timeout -k 5 "$RUN_TIMEOUT" "${prefix[@]}" "${cmd[@]}" "$script" \
        <"$INPUT" >"$out.stdout" 2>"$out.stderr")
  } 2>/dev/null
  local status=$?
  {
    echo "--- stdout"
    cat "$out.stdout"
    if [ -z "$NOSTDERR" ]; then
      echo "--- stderr"
      cat "$out.stderr"
    fi
    echo "--- exit status $status"
  } >"$out"
  rm -rf "$CWD"
}

# sh_case NAME [nostderr] <<'SH' ... SH: one case, its script on stdin.
# "nostderr" leaves stderr out of the comparison (for scripts whose stderr
# is not deterministic); it is still printed on a mismatch.
sh_case() {
  local name="$1" shell key reason script="$CASES/$1.sh"
  NOSTDERR=""
  if [ "${2:-}" = nostderr ]; then
    NOSTDERR=1
  fi
  cat >"$script"
  for shell in dash busybox; do
    key="$shell/$name"
    total=$((total + 1))
    local native="$WORK/out/$shell.$name.native"
    local sandboxed="$WORK/out/$shell.$name.sentry"
    local t0 t1 t2
    t0=$(date +%s%N)
    run_one native "$shell" "$script" "$native"
    t1=$(date +%s%N)
    run_one sentry "$shell" "$script" "$sandboxed"
    t2=$(date +%s%N)
    local times="native $(((t1 - t0) / 1000000)) ms, sentry $(((t2 - t1) / 1000000)) ms"
    if diff -u --label "native $key" --label "sentry $key" \
      "$native" "$sandboxed" >"$WORK/out/diff"; then
      if reason=$(xfail_reason "$key"); then
        echo "XPASS $key: passes, but is listed as an expected failure ($reason)"
        xpassed=$((xpassed + 1))
        failed_names+=("$key(XPASS)")
      else
        echo "ok: $key ($times)"
        passed=$((passed + 1))
      fi
    elif reason=$(xfail_reason "$key"); then
      echo "XFAIL $key: $reason"
      xfailed=$((xfailed + 1))
    else
      echo "FAIL: $key differs (native vs sentry run):"
      sed 's/^/    /' "$WORK/out/diff" | head -60
      if [ -n "$NOSTDERR" ]; then
        echo "    (stderr, not compared) native:"
        sed 's/^/      /' "$native.stderr" | head -10
        echo "    sentry:"
        sed 's/^/      /' "$sandboxed.stderr" | head -10
      fi
      failed=$((failed + 1))
      failed_names+=("$key")
    fi
  done
}

# --- pipelines ------------------------------------------------------------
sh_case pipeline_coreutils <<'SH'
text="the quick brown fox jumps over the lazy dog the end
a b a c b a"
echo "$text" | tr ' ' '\n' | sort | uniq -c | sort -k1,1nr -k2 | head -5
echo "$text" | wc -l
echo "$text" | wc -w
echo "$text" | sed -e 's/the/THE/g' -e '2s/a/A/'
echo "$text" | awk '{ n += NF } END { print NR " lines, " n " words" }'
echo "$text" | tr 'a-z' 'A-Z' | tr -d ' ' | sed 's/\(.\)/\1 /g' | awk '{ print $1 $NF }'
seq 1 20000 | sort -rn | head -3
seq 1 100000 | awk '{ s += $1 } END { print s }'
SH

sh_case pipeline_busybox_applets <<'SH'
text="the quick brown fox jumps over the lazy dog the end
a b a c b a"
echo "$text" | busybox tr ' ' '\n' | busybox sort | busybox uniq -c |
  busybox sort -k1,1nr -k2 | busybox head -5
echo "$text" | busybox wc -l
echo "$text" | busybox sed -e 's/the/THE/g' -e '2s/a/A/'
echo "$text" | busybox awk '{ n += NF } END { print NR " lines, " n " words" }'
busybox seq 1 5000 | busybox sort -rn | busybox head -2
echo "mixed: $(echo x y z | busybox tr ' ' '\n' | sort -r | busybox paste -sd, -)"
SH

sh_case pipeline_status <<'SH'
false | true; echo "false|true: $?"
true | false; echo "true|false: $?"
! true; echo "! true: $?"
! false | false; echo "! false|false: $?"
# The writer dies of SIGPIPE once head is gone.
yes | head -n 1000 | wc -l
{ yes; echo "yes died: $?" >&2; } 2>&1 | head -n 2
{ seq 1 100000; echo "seq: $?" >&2; } | head -n 1
# A pipeline stage that ignores SIGPIPE sees EPIPE instead. (head's output
# is dropped: it races with yes's error message.)
(trap '' PIPE; { yes; echo "yes ignoring SIGPIPE: $?" >&2; } | head -n 1 >/dev/null) 2>&1
SH

# --- lists, substitutions -------------------------------------------------
sh_case and_or_lists <<'SH'
true && echo "and runs"
false && echo "never"
false || echo "or runs"
true || echo "never"
false && echo never || echo "and-or fallback"
true; false; echo "status after ;: $?"
{ echo grouped; false; } || echo "group failed"
x=0; true && x=1; echo "x=$x"
test -d / && test -f /etc/passwd && echo "both tests"
SH

sh_case command_substitution <<'SH'
a=$(echo hello)
echo "a=$a"
echo "nested: $(echo "outer $(echo "inner $(echo innermost)")")"
echo "backticks: `echo tick`"
echo "nested backticks: `echo \`echo deep\``"
echo "mixed: $(echo `echo mixed`)"
b=$(printf 'trailing\n\n\n')
echo "[$b]"
c=$(false); echo "status of a failed substitution: $?"
d=$(exit 42); echo "exit in substitution: $?"
echo "count: $(seq 1 10 | wc -l)"
echo "words: $(echo one two three)"
lines=$(printf 'l1\nl2\nl3')
echo "$lines" | while read -r l; do echo "line $l"; done
echo "arith in subst: $(( $(echo 6) * $(echo 7) ))"
SH

# --- traps and signals ----------------------------------------------------
sh_case trap_exit <<'SH'
trap 'echo "exit trap, status $?"' EXIT
echo body
( trap 'echo "subshell exit trap"' EXIT; echo in subshell )
exit 3
SH

sh_case trap_exit_on_error <<'SH'
set -e
trap 'echo "cleanup ran, status $?"' EXIT
echo before
false
echo never
SH

sh_case trap_signals <<'SH'
trap 'echo "caught USR1"' USR1
kill -USR1 $$
echo "after USR1"
trap 'echo "caught INT"' INT
kill -INT $$
echo "after INT"
trap 'echo "caught USR2"; trap - USR2' USR2
kill -USR2 $$
trap '' TERM
kill -TERM $$
echo "TERM ignored"
trap - TERM
trap 'echo "caught HUP"' HUP
sh -c 'kill -HUP $PPID'
echo "after HUP from a child"
trap - USR1 INT HUP
# In a nested shell (not PID 1 in the sandbox): a subshell signals it.
sh -c '
  trap "echo nested shell caught USR1" USR1
  (kill -USR1 $$)
  trap - USR1
  (kill -USR1 $$)
  echo "not reached: USR1 is fatal again"'
echo "nested shell: $?"
kill -USR1 $$
echo "not reached: the shell killed itself"
SH

sh_case trap_interrupts_wait <<'SH'
trap 'echo "caught USR1 during wait"' USR1
sleep 5 &
sleeper=$!
( sleep 0.1; kill -USR1 $$ ) &
wait $sleeper
echo "wait returned $?"
kill $sleeper
wait $sleeper 2>/dev/null
echo "sleeper: $?"
wait
echo "all waited: $?"
SH

sh_case signal_exit_codes <<'SH'
ulimit -c 0
sh -c 'kill -TERM $$'; echo "TERM: $?"
sh -c 'kill -KILL $$'; echo "KILL: $?"
sh -c 'kill -USR1 $$'; echo "USR1: $?"
sh -c 'kill -INT $$'; echo "INT: $?"
sh -c 'kill -SEGV $$'; echo "SEGV: $?"
sh -c 'kill -ABRT $$'; echo "ABRT: $?"
sh -c 'exit 255'; echo "exit 255: $?"
sh -c 'exit 256'; echo "exit 256: $?"
sleep 3 &
kill -9 $!
wait $! 2>/dev/null; echo "sleep killed by 9: $?"
sleep 3 &
kill $!
wait $! 2>/dev/null; echo "sleep killed by TERM: $?"
SH

sh_case killed_by_own_signal <<'SH'
echo "about to die"
kill -TERM $$
echo "not reached"
SH

sh_case kill_background <<'SH'
# Each kill comes right after the fork: the child must already be there.
# (dash's `kill %1` signals the job's process group, which does not exist
# without job control: ESRCH. busybox signals the process.)
sleep 3 &
pid=$!
kill -0 $pid && echo "sleep is alive"
kill %1 || kill $pid
wait $pid 2>/dev/null
echo "kill %1, then wait: $?"
sleep 3 &
kill $!
wait $! 2>/dev/null
echo "kill \$!: $?"
sleep 3 &
kill -s HUP $!
wait $! 2>/dev/null
echo "kill -s HUP: $?"
kill -0 $! 2>/dev/null || echo "gone"
SH

sh_case background_ignores_int <<'SH'
# Without job control both shells start asynchronous lists with SIGINT
# ignored; the job gets a moment to set that up before INT is sent.
sleep 5 &
sleep 0.1
kill -INT $!
sleep 0.1
kill -TERM $!
wait $! 2>/dev/null
echo "background sleep after INT then TERM: $?"
SH

# (The short sleeps keep the kill-right-after-fork case out of this one.)
sh_case job_control_stop_cont <<'SH'
sleep 0.3 &
pid=$!
sleep 0.1
kill -STOP $pid
sleep 0.1
grep '^State:' /proc/$pid/status | cut -c1-8
kill -CONT $pid
wait $pid
echo "stopped, continued, exited: $?"
sleep 3 &
sleep 0.1
kill -STOP $!
kill -KILL $!
wait $! 2>/dev/null
echo "killed while stopped: $?"
SH

# --- background jobs ------------------------------------------------------
sh_case background_wait <<'SH'
sleep 0.1 &
echo "started a job: $([ -n "$!" ] && echo yes)"
wait
echo "wait: $?"
(exit 7) &
p7=$!
(sleep 0.05; exit 3) &
p3=$!
wait $p3; echo "wait p3: $?"
wait $p7; echo "wait p7: $?"
for i in 1 2 3; do (sleep 0.$i; echo "job $i done") & done
wait
echo "all jobs: $?"
wait 999999; echo "wait for a non-child: $?"
out=$(echo "from a background job" & wait)
echo "$out"
SH

sh_case special_parameters <<'SH'
echo "\$? starts at $?"
false; echo "\$? after false: $?"
[ "$$" -ge 1 ] && echo "\$\$ is a pid"
[ "$$" != "$PPID" ] && echo "\$\$ is not \$PPID"
inner=$(sh -c 'echo $PPID')
[ "$inner" = "$$" ] && echo "a child's \$PPID is our \$\$"
sub=$( (echo $$) )
[ "$sub" = "$$" ] && echo "a subshell keeps \$\$"
sleep 0.01 &
[ "$!" != "$$" ] && echo "\$! is the job's pid"
wait
set -- a "b c" d
echo "\$#=$#"
for a in "$@"; do echo "[$a]"; done
echo "\$*=$*"
shift; echo "after shift: $1"
echo "\$0 ends in: ${0##*/}"
SH

# --- subshells, here-docs, redirections -----------------------------------
sh_case subshells <<'SH'
x=outer
( x=inner; echo "in subshell: $x" )
echo "after subshell: $x"
( cd /usr/bin && pwd )
pwd
( exit 5 ); echo "subshell exit: $?"
( ( ( echo three deep ) ) )
( echo out; echo err >&2 ) 2>&1 | sort
v=$( (echo a; echo b) | tr '\n' ' ')
echo "$v"
( set -e; false; echo never ); echo "set -e subshell: $?"
SH

sh_case here_documents <<'SH'
name=world
cat <<EOF
hello $name
sum $((1 + 2))
cmd $(echo substituted)
EOF
cat <<'EOF'
literal $name $(not run)
EOF
cat <<-EOF
	tabs stripped
		only leading tabs
	EOF
cat <<EOF | tr a-z A-Z
piped here-doc
EOF
f() {
  cat <<EOF
in a function: $1
EOF
}
f arg
while read -r line; do echo "read: $line"; done <<EOF
one
two
EOF
cat <<A; cat <<B
first doc
A
second doc
B
SH

sh_case redirections <<'SH'
echo one >file
echo two >>file
cat file
echo "to stderr" >&2
{ echo out; echo err >&2; } 2>&1 >/dev/null | sed 's/^/captured: /'
{ echo out; echo err >&2; } >both 2>&1
sort both
ls /nonexistent 2>/dev/null || echo "ls failed quietly"
wc -l <file
tr a-z A-Z <file >upper; cat upper
echo overwritten >file; cat file
set -C
(echo clobber >file) 2>/dev/null || echo "noclobber refused"
echo forced >|file; cat file
set +C
echo "read-write" 1<>rw; cat rw
: >empty; wc -c <empty
cat <nonexistent 2>&1 | sed 's/^[^:]*: [0-9]*: //;s/^[^:]*: //'
echo done
SH

sh_case exec_redirections <<'SH'
exec 3>fd3.txt
echo "via fd 3" >&3
echo "more via fd 3" >&3
exec 3>&-
cat fd3.txt
exec 4<fd3.txt
read -r first <&4
read -r second <&4
exec 4<&-
echo "first=$first second=$second"
exec 5>&1
exec >captured.txt
echo "this goes to the file"
exec 1>&5 5>&-
echo "stdout restored"
cat captured.txt
exec 6>inherited.txt
sh -c 'echo "child wrote to inherited fd 6" >&6'
exec 6>&-
cat inherited.txt
(exec sh -c 'exit 4'); echo "exec in a subshell: $?"
exec 2>stderr.txt
echo "hidden error" >&2
exec 2>&1
cat stderr.txt
exec echo "exec replaces the shell"
echo "not reached"
SH

sh_case stdin_and_dev <<'SH'
read -r line
echo "first stdin line: $line"
cat
echo "stdin via /dev/stdin:"
echo piped | cat /dev/stdin
echo "via /proc/self/fd/0:"
echo piped2 | cat /proc/self/fd/0
echo hello >/dev/null && echo "/dev/null works"
head -c 16 /dev/zero | od -An -tx1 | tr -s ' '
head -c 32 /dev/urandom | wc -c
SH

# --- read loops, functions ------------------------------------------------
sh_case read_loops <<'SH'
printf 'a b c\nd e\n\nf\n' | while read -r x rest; do
  echo "x=[$x] rest=[$rest]"
done
count=0
printf '1\n2\n3\n' | while read -r n; do count=$((count + n)); echo "running $count"; done
echo "count after the piped loop: $count"
printf 'root:x:0\nuser:y:1000\n' >colons
while IFS=: read -r name pw id; do
  echo "$name has id $id"
done <colons
printf 'back\\slash\n' | { read -r raw; echo "raw: $raw"; }
printf 'back\\slash\n' | { read cooked; echo "cooked: $cooked"; }
printf 'no newline at end' | { read -r l; echo "status $? [$l]"; }
seq 1 500 | while read -r n; do [ $((n % 100)) -eq 0 ] && echo "at $n"; done
find /usr/share/dash /usr/share/doc/dash -maxdepth 1 2>/dev/null | sort |
  while read -r p; do echo "path ${p##*/}"; done
SH

sh_case functions <<'SH'
greet() { echo "hello, $1 ($# args)"; }
greet world extra
fact() {
  if [ "$1" -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi
}
echo "10! = $(fact 10)"
status() { return "$1"; }
status 7; echo "returned $?"
scoped() { local v=inner; echo "local: $v"; }
v=outer; scoped; echo "global: $v"
args() { for a; do printf '<%s>' "$a"; done; echo; }
args "a b" c "" d
set -- x y
args "$@"
redirected() { echo "inside"; echo "inside err" >&2; }
redirected >func.out 2>&1
cat func.out
f1() { f2; }; f2() { echo "f2 called via f1"; }; f1
command -v greet
recurse() { [ "$1" -gt 0 ] && recurse $(( $1 - 1 )) || echo "bottom"; }
recurse 200
SH

sh_case set_e <<'SH'
set -e
false || echo "|| protects"
if false; then echo never; fi
false && echo never
! true
while false; do :; done
x=$(false) || echo "substitution failed, caught"
f() { false; echo "f goes on inside an || list"; }
f || true
( false; echo never ) || echo "subshell stopped at false"
echo "about to fail"
sh -c 'exit 9'
echo "never"
SH

# --- control flow, arithmetic ---------------------------------------------
sh_case case_statement <<'SH'
for w in apple banana cherry Date 42 x.tar.gz "" "two words" -v; do
  case "$w" in
    a*) r="starts with a" ;;
    banana | cherry) r="banana or cherry" ;;
    [A-Z]*) r="capitalized" ;;
    [0-9][0-9]) r="two digits" ;;
    *.tar.gz) r="tarball" ;;
    "") r="empty" ;;
    *" "*) r="has a space" ;;
    -?) r="an option" ;;
    *) r="other" ;;
  esac
  echo "[$w] $r"
done
case x in x) echo "fallthrough-free" ;; x) echo never ;; esac
case /usr/bin in /usr/*) echo "under /usr" ;; esac
SH

sh_case arithmetic <<'SH'
echo $((1 + 2 * 3)) $(((1 + 2) * 3)) $((7 / 2)) $((7 % 3)) $((-7 / 2)) $((-7 % 3))
echo $((1 << 10)) $((0xff)) $((010)) $((5 & 3)) $((5 | 3)) $((5 ^ 3)) $((~0))
echo $((3 > 2)) $((3 < 2)) $((2 == 2)) $((2 != 2)) $((1 && 0)) $((1 || 0)) $((!5))
echo $((2 > 1 ? 10 : 20))
i=5; : $((i += 3)); echo "i=$i"; : $((i *= 2)); echo "i=$i"
n=10; echo $((n * n)) $(($n + 1))
echo $((9223372036854775807)) $((-9223372036854775807 - 1))
x=0; while [ $x -lt 5 ]; do x=$((x + 1)); done; echo "x=$x"
SH

sh_case loops <<'SH'
for i in 1 2 3; do echo "for $i"; done
for w in $(echo a b c); do printf '%s-' "$w"; done; echo
i=0; while [ $i -lt 3 ]; do i=$((i + 1)); echo "while $i"; done
i=0; until [ $i -ge 2 ]; do i=$((i + 1)); echo "until $i"; done
for i in 1 2 3 4 5; do
  [ $i -eq 2 ] && continue
  [ $i -eq 4 ] && break
  echo "body $i"
done
for a in 1 2; do for b in x y z; do
  [ $b = y ] && continue 2
  echo "$a$b"
done; done
for a in 1 2; do for b in x y; do echo "$a$b"; break 2; done; done
mkdir globdir && touch globdir/c globdir/a globdir/b globdir/.hidden
for f in globdir/*; do echo "glob $f"; done
for f in globdir/nomatch*; do echo "unmatched glob: $f"; done
set -f; for f in globdir/*; do echo "noglob $f"; done; set +f
seq 3 | while read -r n; do echo "seq $n"; done
SH

sh_case expansions <<'SH'
unset u; e=""; v=value; p=/usr/local/lib/file.tar.gz
echo "${u:-default} ${e:-empty-default} ${v:-unused}"
echo "${u-unset-only} [${e-unused}]"
echo "${u:=assigned}"; echo "u=$u"
echo "${v:+alternate} [${e:+none}]"
echo "${#v} ${#p}"
echo "${p#*/} ${p##*/} ${p%.*} ${p%%.*}"
(echo "${nope:?is not set}") 2>&1 | sed 's/^.*nope/nope/'
IFS=:; set -- $(echo a:b::c); IFS=' '; echo "$# fields: $*"
s="  spaced   out  "; set -- $s; echo "$# words"
echo "$(printf '%s|' "quoted  spaces")"
echo ~root
echo "a""b"'c'\d
printf '%s %d %x %o %5s|%-5s|%.2s\n' str 42 255 8 r l truncate
printf '%b\n' 'esc\tape'
echo 'single $v' "double $v" \$v
SH

# --- files, xargs, find, test ---------------------------------------------
sh_case tmp_files <<'SH'
d=$(mktemp -d /tmp/shell_test.XXXXXX)
trap 'rm -rf "$d"' EXIT
case "$d" in /tmp/shell_test.*) echo "mktemp -d under /tmp" ;; esac
f=$(mktemp "$d/file.XXXXXX")
[ -f "$f" ] && echo "mktemp made a file"
echo data >"$f"
echo more >>"$f"
cat "$f"
mkdir -p "$d/a/b/c"
touch "$d/a/b/c/leaf" "$d/a/one" "$d/a/two"
(cd "$d" && find . ! -name "file.*" | sort)
mv "$d/a/one" "$d/a/moved"
cp "$f" "$d/a/copy"
ln -s copy "$d/a/link"
ln "$d/a/copy" "$d/a/hard"
(cd "$d/a" && ls && cat link && stat -c '%h %F' copy link)
rm -r "$d/a/b"
(cd "$d/a" && ls)
[ -e "$d/a/b" ] || echo "removed"
size=$(echo big >"$d/big" && wc -c <"$d/big")
echo "wrote $size bytes"
SH

sh_case xargs_find <<'SH'
printf '%s\n' a b c d e | xargs echo
printf '%s\n' a b c d e | xargs -n 2 echo
printf '%s\n' a b c | xargs -I{} echo "item {}"
printf 'x y\nz\n' | busybox xargs echo busybox:
mkdir -p tree/sub/deeper
for f in tree/one tree/sub/two tree/sub/deeper/three "tree/with space"; do
  echo "content of $f" >"$f"
done
find tree -type f | sort | xargs wc -l | sort
find tree -type f -print0 | sort -z | xargs -0 cat
find tree -name 't*' | sort
find tree -type d | sort | xargs -n 1 basename
busybox find tree -type f | busybox sort | busybox xargs -n 1 basename
touch -d @1000000000 tree/one tree/sub/two
touch -d @1000000100 "tree/with space"
find tree -type f -newer tree/sub/two | sort
find tree -type f ! -newer tree/one | sort
echo "" | xargs echo "empty input:"
printf '1\n2\n3\n' | xargs sh -c 'echo "sh got $#: $*"' sh
printf 'a\nb\n' | xargs -n 1 sh -c 'exit 3'; echo "xargs with failing command: $?"
SH

sh_case test_builtin <<'SH'
t() { if "$@"; then echo "true:  $*"; else echo "false: $*"; fi; }
touch file; mkdir dir; ln -s file link; ln -s missing dangling
chmod 0644 file
t [ -f file ]; t [ -d file ]; t [ -d dir ]; t [ -e dangling ]; t [ -L dangling ]
t [ -h link ]; t [ -s file ]; echo x >file; t [ -s file ]
t [ -r file ]; t [ -w file ]; t [ -x file ]; t [ -x /bin/sh ]
t [ -c /dev/null ]; t [ -b /dev/null ]; t [ -p /dev/null ]
t test -z ""; t test -n ""; t [ abc = abc ]; t [ abc != abc ]
t [ 10 -gt 9 ]; t [ 10 -lt 9 ]; t [ 3 -eq 3 ]; t [ 3 -ne 3 ]; t [ -5 -le -5 ]
t [ ! -e nope ]; t [ -e file -a -e dir ]; t [ -e nope -o -e dir ]
t [ a \< b ]; t [ "" ]; t [ x ]
t [ file -ef link ]; t [ file -ef dir ]
t [ -t 0 ]; t [ -t 1 ]
t /usr/bin/test -d /proc/self
t [ -S /nonexistent ]
[ 1 -eq x ] 2>/dev/null; echo "bad integer: $?"
SH

# --- environment, limits, directories -------------------------------------
sh_case ulimit_umask <<'SH'
echo "ulimit -n: $(ulimit -n)"
ulimit -n 64
echo "ulimit -n after lowering: $(ulimit -n)"
sh -c 'echo "a child sees: $(ulimit -n)"'
ulimit -Sn 32
echo "soft, hard: $(ulimit -Sn) $(ulimit -Hn)"
ulimit -Sn 64 && echo "soft raised back up to the hard limit"
(ulimit -Sn 65) 2>/dev/null || echo "soft above hard refused"
ulimit -c 0; echo "ulimit -c: $(ulimit -c)"
echo "umask: $(umask)"
umask 027
echo "umask now: $(umask)"
touch made; mkdir madedir
stat -c '%a %n' made madedir
umask 0
: >open; mkdir opendir
stat -c '%a %n' open opendir
sh -c 'echo "a child inherits umask $(umask)"'
SH

sh_case cd_pwd <<'SH'
start=$(pwd)
[ "$start" = "$PWD" ] && echo "pwd matches \$PWD"
cd /usr/bin && pwd
cd .. && pwd
cd - >/dev/null && pwd
echo "OLDPWD=$OLDPWD"
cd / && pwd && cd "$start"
mkdir -p real/inner && ln -s real/inner alias
cd alias && pwd && pwd -P | sed "s|^$start|START|"
cd .. && pwd | sed "s|^$start|START|"
cd "$start"
cd /nonexistent 2>/dev/null || echo "cd to a missing directory failed"
mkdir locked && chmod 000 locked
(cd locked 2>/dev/null && echo "root may enter" || echo "could not enter")
chmod 755 locked
cd /proc/self/cwd 2>/dev/null && echo "cd through /proc/self/cwd" && cd "$start"
HOME=/tmp; cd; pwd
SH

sh_case env_command <<'SH'
env | sort >env.txt
[ -s env.txt ] && echo "env is not empty"
grep -c '^PATH=' env.txt
FOO=bar env | grep '^FOO='
FOO=bar sh -c 'echo "FOO in child: $FOO"'
echo "FOO afterwards: [${FOO:-}]"
export EXPORTED=yes
sh -c 'echo "exported: $EXPORTED"'
unset EXPORTED
sh -c 'echo "after unset: [${EXPORTED:-}]"'
env -i A=1 B=2 /usr/bin/env | sort
env -i /usr/bin/dash -c 'echo "empty env PATH: [${PATH:-}]"' | sed 's/PATH: .*/PATH: (shell default)/'
env -u HOME sh -c 'echo "HOME unset: [${HOME:-}]"'
cat env.txt
SH

sh_case command_lookup <<'SH'
command -v sh
command -v ls
command -v cd
command -v echo
command -v no_such_command; echo "missing: $?"
f() { :; }; command -v f
alias ll='ls -l' 2>/dev/null; command -v ll | sed 's/^alias //'
command echo "command runs the builtin"
command ls /usr/bin/env
type true | sed 's/ a shell builtin/ builtin/;s/ built-in/ builtin/'
no_such_command 2>/dev/null; echo "not found: $?"
printf 'echo hi\n' >notexec; chmod 644 notexec
./notexec 2>/dev/null; echo "not executable: $?"
printf '#!/bin/sh\necho "script ran with $1"\n' >script.sh; chmod +x script.sh
./script.sh arg; echo "script: $?"
printf 'echo "shebang-less script ran"\n' >plain; chmod +x plain
./plain
sh -c 'echo "$0 $1 $2"' zero one two
eval 'e=evaluated'; echo "$e"
echo 'sourced=yes' >src.sh; . ./src.sh; echo "sourced=$sourced"
SH

sh_case error_messages <<'SH'
no_such_command
echo "status $?"
./missing_script
echo "status $?"
cat /nonexistent
echo "status $?"
ls /nonexistent
echo "status $?"
cd /nonexistent
echo "status $?"
printf '#!/nonexistent/interpreter\n' >badshebang; chmod +x badshebang
./badshebang
echo "status $?"
mkdir adir; ./adir
echo "status $?"
mkdir emptydir; cat /dev/null >emptydir
echo "status $?"
echo x >/nonexistent/dir/file
echo "status $?"
SH

sh_case process_tree <<'SH'
# Processes seen through /proc from the shell's own point of view.
echo "my command line: $(tr '\0' ' ' </proc/$$/cmdline | sed 's|[^ ]*/||g')"
[ "$(cut -d' ' -f1 /proc/self/stat)" != "$$" ] && echo "/proc/self is the reader, not the shell"
sleep 1 &
p=$!
[ -d /proc/$p ] && echo "the child is in /proc as soon as fork returns"
sleep 0.2
tr '\0' ' ' </proc/$p/cmdline; echo
awk '/^PPid:/ { print ($2 == '"$$"') ? "sleep is our child" : "not our child" }' /proc/$p/status
kill $p; wait $p 2>/dev/null
[ -d /proc/$p ] || echo "reaped: its /proc directory is gone"
ps_count=$(ls -d /proc/[0-9]* | wc -l)
[ "$ps_count" -ge 1 ] && echo "there are processes"
SH

sh_case proc_self <<'SH'
head -1 /proc/self/status
grep -c . /proc/self/maps >/dev/null && echo "/proc/self/maps readable"
readlink /proc/self/exe
readlink /proc/self/cwd | sed "s|^$PWD\$|the working directory|"
ls -l /proc/self/fd/ | grep -c -- '->' >/dev/null && echo "/proc/self/fd lists links"
read -r comm </proc/$$/comm; echo "the shell's comm: $comm"
SH

# A process's name (comm) is the last component of the path it was
# executed by, a symlink's included. busybox runs its own applets through
# /proc/self/exe, reads back "exe" and renames itself after the applet.
sh_case exec_comm <<'SH'
cat /proc/self/comm
ln -s /usr/bin/cat mycat
./mycat /proc/self/comm
sh -c 'read -r c </proc/self/comm; echo "sh -c: $c"'
SH

# A process may rename itself through /proc/self/comm (mode 0644).
sh_case proc_comm_write <<'SH'
sh -c 'echo renamed >/proc/self/comm && read -r c </proc/self/comm && echo "renamed to: $c"'
echo "status $?"
SH

# Native and sandboxed shells run as the same user: as root, DAC override
# opens read-only files for writing, procfs ones too (writing then fails);
# as anyone else, neither side may.
sh_case open_readonly_as_root <<'SH'
touch ro; chmod 0444 ro
(echo data >ro) 2>/dev/null && echo "0444 file opened for writing" ||
  echo "0444 file refused"
(: >/proc/version) 2>/dev/null && echo "/proc/version opened for writing" ||
  echo "/proc/version refused"
SH

sh_case many_processes <<'SH'
i=0
while [ $i -lt 50 ]; do /bin/true; i=$((i + 1)); done
echo "ran /bin/true $i times"
for i in $(seq 1 10); do (echo "$i" >"f$i") & done
wait
cat f* | sort -n | tr '\n' ' '; echo
seq 1 50 | xargs -P 4 -n 5 echo | wc -l
SH

echo
echo "shell scripts: $passed of $total passed, $failed failed," \
  "$xfailed expected failures, $xpassed unexpected passes"
if [ ${#failed_names[@]} -gt 0 ]; then
  echo "failed: ${failed_names[*]}"
fi
[ "$failed" -eq 0 ] && [ "$xpassed" -eq 0 ]
