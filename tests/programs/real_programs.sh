# shellcheck shell=bash disable=SC2016,SC2034
# Real-program workloads, shared by tests/programs/real_programs_test.sh
# (native vs `sentry run`: same output, same status, host unchanged) and
# bench/programs.sh (wall time natively, under the Sentry and under runsc).
#
# Source this file, then:
#   rp_command CASE DIR   sets the array RP_CMD to the command line that runs
#                         CASE with DIR as its work directory. Prefix it with
#                         nothing, `sentry run` or `runsc do`.
#   rp_filter CASE        prints the sed -E script applied to both outputs of
#                         CASE before comparing them ("" when none is needed)
#   RP_CASES              every case, in order
#
# Every case is self-contained: it starts from an empty environment (env -i,
# the variables below), creates DIR (which must not exist: each run uses a
# fresh name under /tmp), its $HOME (DIR/home) and $TMPDIR (DIR/tmp), cds to
# DIR and execs the case's program with stdin from wherever the caller
# points it (/dev/null). All it writes lands under DIR, except where a case
# says otherwise; DIR's path appears in the output, so a comparison must use
# the same DIR for both runs.
#
# Output that legitimately differs between the host and a sandbox is either
# kept out of the output by the case itself (a clock read is turned into a
# sanity check, a pid into a comparison) or filtered, with the reason, in
# rp_filter.

RP_CASES=(
  bash_pipes_redirections
  bash_heredoc_subshell
  bash_trap
  bash_job_control
  procps_ps
  coreutils_files
  coreutils_text
  coreutils_system
  grep_sed_awk
  find_exec
  xdev_new_dirs
  tar_gzip
  make_c_project
  make_parallel
  python_stdlib
  python_multiprocessing
  python_mp_shared
  python_socketpair
  perl_e
  git_commit_log
)

RP_PYTHON=/usr/bin/python3

# rp_script: reads a script from stdin into RP_SCRIPT.
rp_script() {
  RP_SCRIPT=$(cat)
}

rp_command() {
  local name="$1" dir="$2"
  RP_PROG=()
  if ! declare -F "rp_case_$name" >/dev/null; then
    echo "real_programs.sh: no case $name" >&2
    return 1
  fi
  "rp_case_$name"
  RP_CMD=(env -i
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    HOME="$dir/home" TMPDIR="$dir/tmp" W="$dir" TZ=UTC LANG=C.UTF-8
    LC_ALL=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0
    /bin/sh -c 'mkdir -p "$HOME" "$TMPDIR" && cd "$W" && exec "$@"' sh
    "${RP_PROG[@]}")
}

rp_filter() {
  case "$1" in
    # df's numbers and device names describe the file system behind the
    # path: the host's disk natively, the sandbox's overlay inside it.
    coreutils_system) echo 's/^df: .*/df: (filtered)/' ;;
    *) echo "" ;;
  esac
}

# --- bash -----------------------------------------------------------------
# (dash and busybox sh run the POSIX parts in tests/programs/shell_test.sh;
# these are the same ideas in bash, with its own features.)

rp_case_bash_pipes_redirections() {
  rp_script <<'SH'
printf '%s\n' banana apple cherry apple date apple | sort | uniq -c | sort -k1,1nr -k2
set -o pipefail
false | true; echo "pipefail false|true: $?"
true | (exit 3) | true; echo "PIPESTATUS: ${PIPESTATUS[*]}"
set +o pipefail
true | (exit 3) | true; echo "no pipefail: $? (${PIPESTATUS[*]})"
yes | head -3 | wc -l
seq 1 50000 | grep -c 7
echo out >f1; { echo err >&2; } 2>f2; cat f1 f2
echo more >>f1; wc -l <f1
{ echo to-stdout; echo to-stderr >&2; } 2>&1 >/dev/null | tr a-z A-Z
{ echo both-out; echo both-err >&2; } &>both; sort both
{ echo appended; } &>>both; wc -l <both
exec 3>fd3; echo "via fd 3" >&3; exec 3>&-; cat fd3
exec {fd}<f1; read -r line <&"$fd"; echo "named fd: $line"; exec {fd}<&-
diff <(printf 'a\nb\nc\n') <(printf 'a\nc\nc\n'); echo "diff: $?"
paste <(seq 3) <(seq 4 6) <(echo x; echo y; echo z)
cat <<<"here string $((2 ** 10))"
read -r a b <<<"one two three"; echo "a=$a b=$b"
mapfile -t lines < <(seq 5 -1 1); echo "mapfile: ${#lines[@]} ${lines[*]}"
echo piped | cat /dev/stdin
echo "fd path" | cat /dev/fd/0
set -C; echo x >f1; echo "noclobber: $?"; echo y >|f1; cat f1; set +C
cat nonexistent 2>/dev/null || echo "cat failed: $?"
ls -d /nonexistent-dir 2>&1 | sed 's/^ls: //'
exec 4>&1; out=$( { echo captured; echo to-4 >&4; } ); exec 4>&-; echo "out=$out"
while read -r n; do s=$((${s:-0} + n)); done < <(seq 100); echo "sum via procsub: $s"
seq 3 | while read -r n; do t=$((${t:-0} + n)); done; echo "subshell pipeline keeps t unset: ${t:-unset}"
shopt -s lastpipe; set +m; seq 3 | while read -r n; do u=$((${u:-0} + n)); done; echo "lastpipe: $u"
printf '%s\0' x 'y z' | xargs -0 printf '<%s>'; echo
dd if=/dev/zero bs=1k count=64 2>/dev/null | wc -c
head -c 1000000 /dev/urandom | cat | cat | wc -c
SH
  RP_PROG=(bash -c "$RP_SCRIPT" bash)
}

rp_case_bash_heredoc_subshell() {
  rp_script <<'SH'
name=world
cat <<EOF
expanded: hello $name, $((6 * 7)), $(echo from a command), ${HOME##*/}
EOF
cat <<'EOF'
literal: $name $(not run) `nor this`
EOF
cat <<-EOF
	tabs stripped: $name
	EOF
while read -r n word; do echo "$word=$n"; done <<EOF
1 one
2 two
3 three
EOF
f() { cat; }
f <<EOF | tr a-z A-Z
piped heredoc through a function
EOF
cat <<A; cat <<B
first of two
A
second of two
B
x=outer
(x=inner; echo "subshell: $x level $BASH_SUBSHELL")
echo "after subshell: $x"
(cd /usr && pwd); pwd
(exit 4); echo "subshell exit: $?"
( (exit 5) ); echo "nested: $?"
[ "$BASHPID" = "$$" ] && echo "BASHPID is \$\$ in the main shell"
( [ "$BASHPID" != "$$" ] && echo "BASHPID differs in a subshell" )
echo "command substitution: $(echo a; (echo b; echo c) | wc -l)"
echo "nested: $(echo "$(echo "$(echo deep)")")"
v=$(exit 6); echo "status of a substitution: $?"
{ echo group; echo ed; } | wc -l
arr=(zero one "two three" four)
echo "array: ${#arr[@]} ${arr[2]} ${arr[@]:1:2} ${!arr[*]}"
arr+=(five); unset 'arr[0]'; echo "after: ${arr[*]} (${#arr[@]})"
declare -A m=([b]=2 [a]=1 [c]=3)
for k in $(printf '%s\n' "${!m[@]}" | sort); do printf '%s=%s ' "$k" "${m[$k]}"; done; echo
s="Hello, World"
echo "${s,,} ${s^^} ${s:7} ${s/World/There} ${#s} ${s%,*} ${s#*, }"
[[ "abc123def" =~ ([0-9]+) ]] && echo "regex: ${BASH_REMATCH[1]}"
[[ -d /usr && ! -e /nonexistent ]] && echo "[[ ]] tests"
printf -v padded '%05d' 42; echo "printf -v: $padded"
echo {a,b}{1,2} {1..5} {10..0..5} {a..e}
shopt -s extglob
touch x.c y.h z.o; echo +(*.c|*.h) !(*.c|*.h|home|tmp); rm -f x.c y.h z.o
for ((i = 0; i < 3; i++)); do echo -n "$i "; done; echo
(( n = 2 ** 40 )); echo "arith: $n $((n % 7)) $((16#ff)) $((2#1010))"
let "q = 17 / 5" "r = 17 % 5"; echo "let: $q $r"
declare -i int=5; int+=10; echo "declare -i: $int"
fn() { local -n ref=$1; ref="set by nameref"; }; fn target; echo "$target"
fact() { (( $1 <= 1 )) && echo 1 || echo $(( $1 * $(fact $(($1 - 1))) )); }; echo "fact 12: $(fact 12)"
coproc upper { tr a-z A-Z; }
echo "through a coprocess" >&"${upper[1]}"
exec {upper[1]}>&-
read -r line <&"${upper[0]}"; echo "$line"; wait "$upper_PID"; echo "coproc exit: $?"
type cd echo ls fn | sed 's/ (.*//'
eval 'echo "eval: $((1 + 2))"'
set -- p1 "p 2" p3; echo "$# $2 ${@: -1}"; shift; echo "$*"
getopts_demo() { local OPTIND opt; while getopts "ab:" opt; do echo "opt $opt ${OPTARG:-}"; done; }
getopts_demo -a -b val
SH
  RP_PROG=(bash -c "$RP_SCRIPT" bash)
}

rp_case_bash_trap() {
  rp_script <<'SH'
trap 'echo "EXIT trap, status $?"' EXIT
trap 'echo "ERR trap: status $?"' ERR
false
(exit 3)
trap - ERR
trap 'echo "caught USR1"' USR1
kill -USR1 $$
trap 'echo "caught TERM"' TERM
kill -TERM $$
trap 'echo "caught INT"' INT
kill -INT $$
trap -p USR1 TERM
trap - USR1 TERM INT
( trap 'echo "subshell EXIT"' EXIT; exit 3 ); echo "subshell status: $?"
( trap 'echo "subshell got HUP"; exit 9' HUP; kill -HUP $BASHPID; echo not reached ); echo "subshell HUP: $?"
bash -c 'kill -TERM $$'; echo "child killed by TERM: $?"
{ bash -c 'kill -KILL $$'; } 2>/dev/null; echo "child killed by KILL: $?"
bash -c 'trap "echo child caught HUP; exit 5" HUP; kill -HUP $$; echo not reached'; echo "child trap exit: $?"
bash -c 'trap "" TERM; kill -TERM $$; echo "child ignored TERM"'; echo "status $?"
bash -c 'set -e; trap "echo set -e EXIT \$?" EXIT; false; echo never'; echo "set -e: $?"
# A trapped signal interrupts `wait`, which returns 128+signal.
trap 'echo "USR2 during wait"' USR2
sleep 5 & sleeper=$!
(sleep 0.2; kill -USR2 $$) &
wait "$sleeper"; echo "wait interrupted: $?"
kill "$sleeper"; wait "$sleeper" 2>/dev/null; echo "sleeper: $?"
wait
# A trap on a signal the shell receives while a foreground child runs
# executes once the child is done.
trap 'echo "USR1 after the child"' USR1
(sleep 0.1; kill -USR1 $$) & sleep 0.4; wait
trap 'echo "DEBUG: $BASH_COMMAND"' DEBUG
: one; : two
trap - DEBUG
f() { trap 'echo "RETURN from f"' RETURN; echo "in f"; }
f; trap - RETURN
set -E; trap 'echo "ERR in function, line $LINENO"' ERR
g() { false; }; g; trap - ERR; set +E
echo "last command"
exit 7
SH
  RP_PROG=(bash -c "$RP_SCRIPT" bash)
}

# Job control (set -m) in a non-interactive shell: jobs, %-specs, stop,
# bg, kill, wait -n, process groups. Waits name a pid, not a %-spec, where
# the job may already have been reaped: a reaped job leaves bash's job
# table (`wait %1`: no such job) but its pid's status is kept.
rp_case_bash_job_control() {
  rp_script <<'SH'
# getpgid(2) (ps reads /proc/PID/stat instead: see the procps_ps case).
pgid() { perl -e 'print getpgrp($ARGV[0])' "$1"; }
set -m
sleep 5 &
long=$!
echo "started: $(jobs)"
sleep 0.3 &
wait %2; echo "wait %2: $?"
jobs
kill -STOP %1
sleep 0.2
jobs
bg %1
jobs
kill %1
wait "$long"; echo "wait for the killed job: $?"
jobs
(sleep 0.2; exit 7) &
pid=$!
[ "$(pgid "$pid")" = "$pid" ] && echo "a job is its own process group"
[ "$(pgid $$)" != "$pid" ] && echo "not the shell's"
wait "$pid"; echo "exit $?"
sleep 0.5 & sleep 0.1 & wait -n; echo "wait -n: $?"; wait
false & wait $!; echo "false in the background: $?"
{ sleep 0.1; echo "group done"; } &
wait
sleep 5 & victim=$!
kill -TERM -"$victim"; wait "$victim"; echo "killed its process group: $?"
# (In a shell of its own with stderr discarded: whether bash reports the
# killed job inside `wait` or at the next command depends on timing.)
bash -c 'set -m; sleep 5 & disown -h %1; jobs; kill %1; wait' 2>/dev/null
set +m
sleep 0.1 & [ "$(pgid $!)" = "$(pgid $$)" ] && echo "without -m a job stays in the shell's group"
wait
echo done
SH
  RP_PROG=(bash -c "$RP_SCRIPT" bash)
}

# procps's ps, which reads /proc/PID/stat: the shell (a session leader,
# through setsid, natively as sandboxed), a job in its own group, a job in
# the shell's. Pids are printed as who they are.
rp_case_procps_ps() {
  rp_script <<'SH'
set -m; sleep 2 & a=$!; set +m; sleep 2 & b=$!
# Let both children finish exec'ing sleep before ps looks at their names
# (until then they are copies of bash).
sleep 0.3
who() {
  case "$1" in $$) echo shell ;; "$a") echo job_a ;; "$b") echo job_b ;; *) echo other ;; esac
}
ps -o pid=,ppid=,pgid=,sid=,comm= -p "$$,$a,$b" | while read -r pid ppid pgid sid comm; do
  echo "$(who "$pid") $comm: parent $(who "$ppid"), group $(who "$pgid"), session $(who "$sid")"
done
ps -o stat= -p "$a" | cut -c1
kill -STOP "$a"; sleep 0.2; ps -o stat= -p "$a" | cut -c1
kill -CONT "$a"; kill "$a" "$b"; wait
ps -p "$a" >/dev/null; echo "ps, no such process: $?"
ps -o comm= -p $$
ps -o args= -p $$ | cut -c1-7
SH
  RP_PROG=(setsid -w bash -c "$RP_SCRIPT" bash)
}

# --- coreutils ------------------------------------------------------------

rp_case_coreutils_files() {
  rp_script <<'SH'
mkdir -p src/a/b src/c src/empty
echo one >src/a/1.txt
for i in $(seq 100); do echo "line $i"; done >src/a/b/2.txt
ln -s ../a/1.txt src/c/link
head -c 100000 /dev/zero >src/zeros
printf 'exec' >src/script.sh; chmod 755 src/script.sh
chmod 640 src/a/1.txt
touch -d '2020-01-02 03:04:05' src/a/1.txt src/a/b/2.txt src/zeros src/script.sh
touch -h -d '2020-01-02 03:04:05' src/c/link
ls src
ls -a src/a
ls -R src
ls -l --time-style=+%F_%T src/a/1.txt src/zeros src/script.sh src/c/link
ls -lS --time-style=+%F src | grep -v '^d' | grep -v '^total'
ls -1t src/a/1.txt src/zeros
ls -F src
ls -d src/*/
ls nonexistent; echo "ls status: $?"
stat -c '%n %s %a %F %U %G %y' src/a/1.txt src/zeros src/c/link src/script.sh
stat -L -c '%n %s %F' src/c/link
readlink src/c/link; readlink -f src/c/link
cp -r src dst
diff -r src dst && echo "cp -r: same"
cp -a src archive
stat -c '%n %a %y' archive/a/1.txt archive/zeros
[ -L archive/c/link ] && echo "cp -a keeps links"
cp src/zeros src/zeros.copy; cmp src/zeros src/zeros.copy && echo cmp ok
cp -n src/a/1.txt src/zeros.copy; cmp -s src/zeros src/zeros.copy && echo "cp -n did not overwrite"
mv dst moved
mv moved/a/1.txt moved/renamed.txt
mv moved/a/b moved/b2
ls moved moved/a
mv moved/renamed.txt "$W.outside"
cat "$W.outside"; rm "$W.outside"
mkdir -p deep/x/y/z && touch deep/x/y/z/f && rm -r deep && echo "rm -r deep"
rm -rf moved archive
rm nonexistent; echo "rm status: $?"
rmdir src/empty && echo "rmdir ok"
rmdir src; echo "rmdir of a non-empty dir: $?"
ls
du -ab src | while read -r size path; do [ -d "$path" ] || echo "$size $path"; done | sort -k2
du -k src/zeros src/a/b/2.txt
du -sh --apparent-size src/zeros
ln src/a/1.txt hard; stat -c '%h' src/a/1.txt hard
ln -sf /etc/hostname sym; cat sym >/dev/null && echo "symlink to the host's /etc"
install -m 600 -D src/a/1.txt inst/dir/file; stat -c '%a %s' inst/dir/file
mktemp -p "$TMPDIR" tmp.XXXXXX | sed 's/tmp\.[A-Za-z0-9]*$/tmp.RANDOM/'
split -l 30 src/a/b/2.txt part.; ls part.*; cat part.* | cmp - src/a/b/2.txt && echo "split joins"
dd if=src/a/b/2.txt of=dd.out bs=7 skip=2 count=3 status=none; cat dd.out; echo
truncate -s 5000 trunc; stat -c %s trunc
touch -r src/zeros ref; [ ! ref -nt src/zeros ] && [ ! ref -ot src/zeros ] && echo "touch -r"
basename /a/b/c.txt .txt; dirname /a/b/c.txt; realpath --relative-to=src src/a/b
sync; echo synced
SH
  RP_PROG=(bash -c "$RP_SCRIPT" bash)
}

rp_case_coreutils_text() {
  rp_script <<'SH'
cat >fruit <<'EOF'
banana 3 yellow
apple 10 red
cherry 7 red
apple 2 green
date 7 brown
elderberry 1 purple
banana 3 yellow
EOF
sort fruit
sort -u fruit
sort -k2,2n -k1,1 fruit
sort -k2,2nr fruit | head -3
sort -t' ' -k3,3 -s fruit
sort -c fruit; echo "sort -c: $?"
cut -d' ' -f1 fruit | sort | uniq -c
cut -d' ' -f1 fruit | sort | uniq -d
cut -d' ' -f1 fruit | sort | uniq -u
cut -c1-3 fruit | tr '\n' ' '; echo
cut -d: -f1,7 /etc/passwd | head -2
wc fruit; wc -l <fruit; wc -w -c fruit
tr a-z A-Z <fruit | head -2
tr -d aeiou <fruit | tail -1
tr -s ' ' <<<"squeeze    these     spaces"
tr -c 'a-z\n' '_' <<<"Not-Only:letters 123"
echo "abc" | tr 'a-c' 'x-z'
head -n 2 fruit; head -c 10 fruit; echo
head -n -5 fruit
tail -n 2 fruit; tail -n +6 fruit; tail -c 7 fruit
seq 1000 | tail -1
tac fruit | head -2
nl fruit | tail -2
paste -d, <(cut -d' ' -f1 fruit) <(cut -d' ' -f3 fruit)
join <(sort fruit | cut -d' ' -f1,2 | sort -u -k1,1) <(printf 'apple A\nbanana B\ncherry C\n')
comm -12 <(printf 'a\nb\nc\n') <(printf 'b\nc\nd\n')
fold -w 10 <<<"a long line that gets folded at ten columns"
expand -t 4 <<<$'a\tb\tc'
od -c <<<"od me" | head -2
base64 fruit | head -2; base64 fruit | base64 -d | cmp - fruit && echo base64 roundtrip
md5sum fruit; sha256sum fruit; cksum fruit
printf '%s\n' 3 1 2 | sort -n | tr '\n' ' '; echo
seq 0 0.5 2; seq -w 8 11; seq -s, 5
printf '%5.2f|%-6s|%x|%o|%e\n' 3.14159 ab 255 8 12345.678
numfmt --to=iec 1048576 123456789
factor 1001 65536
expr 7 \* 6; expr length "hello"
# External merge sort: a tiny buffer makes sort spill to temp files in
# $TMPDIR; --parallel sorts with threads.
seq 1 200000 | awk '{ print ($1 * 7919) % 200003 }' >big
sort -n -S 64K --parallel=2 big | md5sum
sort -n big | uniq | wc -l
sort -rn big | head -3
shuf -n 3 --random-source=fruit fruit | wc -l
SH
  RP_PROG=(bash -c "$RP_SCRIPT" bash)
}

rp_case_coreutils_system() {
  rp_script <<'SH'
df -P / | awk 'NR == 1 { $1 = $1; print } NR > 1 { print "df: " $0 }'
df -P / >/dev/null; echo "df status: $?"
date -d @1700000000 '+%F %T %Z %s %A %j'
TZ=America/New_York date -d '2024-03-10 12:00 UTC' '+%F %T %Z'
TZ=Asia/Tokyo date -d @0 -R
date -u -d '2024-02-28 + 1 day' +%F
now=$(date +%s); [ "$now" -gt 1700000000 ] && echo "the clock is set"
start=$(date +%s%N); sleep 0.3; end=$(date +%s%N)
ms=$(( (end - start) / 1000000 )); [ "$ms" -ge 300 ] && [ "$ms" -lt 3000 ] && echo "sleep 0.3 took 0.3 s"
sleep 0.1 0.1; echo "sleep: $?"
sleep -1; echo "bad sleep: $?"
timeout 0.3 sleep 5; echo "timeout: $?"
{ timeout -s KILL 0.2 sleep 5; } 2>/dev/null; echo "timeout -s KILL: $?"
timeout 5 true; echo "timeout, done in time: $?"
timeout 5 sh -c 'exit 3'; echo "timeout passes the status: $?"
timeout --preserve-status 0.2 sleep 5; echo "timeout --preserve-status: $?"
{ timeout -k 0.2 0.2 bash -c 'trap "" TERM; sleep 5'; } 2>/dev/null; echo "timeout -k: $?"
timeout 0.2 bash -c 'trap "echo got TERM; exit 0" TERM; sleep 5 & wait'; echo "trapping TERM: $?"
env | sort
env -i A=1 B=2 env
env -u HOME env | grep -c '^HOME=' 
env -C /usr pwd
env FOO=bar sh -c 'echo "FOO=$FOO"'
env --ignore-environment /usr/bin/printenv PATH; echo "printenv without PATH: $?"
id; id -u; id -g; id -un; id -gn; id -G
id nobody; id -u daemon
id nosuchuser; echo "id status: $?"
whoami; groups
getent passwd root nobody
seq 10 | xargs -n 3 echo
seq 10 | xargs echo | wc -w
printf 'a b\0c\0' | xargs -0 -I{} echo "[{}]"
seq 20 | xargs -P 4 -n 5 sh -c 'echo $(($1 + $2 + $3 + $4 + $5))' sh | sort -n
echo one two | xargs -t echo 2>&1
seq 3 | xargs sh -c 'exit 255' sh; echo "xargs, command exits 255: $?"
seq 3 | xargs false; echo "xargs, command fails: $?"
xargs --no-run-if-empty echo never </dev/null; echo "xargs -r: $?"
xargs -a /etc/hostname echo "hostname file:" | wc -w
uname -s -m; nproc >/dev/null && echo nproc
tty; echo "tty: $?"
nice -n 5 nice; nohup true 2>&1; echo "nohup: $?"
[ -s nohup.out ] || echo "no nohup.out"
printf '%s\n' "$PWD" | sed "s|$W|W|"
stdbuf -oL echo line-buffered
true; echo "true: $?"; false; echo "false: $?"
test 3 -gt 2 && [ -d / ] && echo test ok
SH
  RP_PROG=(bash -c "$RP_SCRIPT" bash)
}

# --- grep, sed, awk, find, tar --------------------------------------------

# tree DIR: a small source tree for grep, find and tar (a shell function
# prepended to the cases' scripts).
RP_TREE='tree() {
mkdir -p "$1/src/lib" "$1/src/app" "$1/docs" "$1/empty" "$1/.hidden"
printf "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n" >"$1/src/app/main.c"
printf "int add(int a, int b) { return a + b; }\n/* TODO: sub */\n" >"$1/src/lib/add.c"
printf "int add(int a, int b);\n" >"$1/src/lib/add.h"
printf "# Title\n\nSome TODO items.\nMore text here.\n" >"$1/docs/README.md"
printf "todo: lowercase\n" >"$1/docs/notes.txt"
printf "secret TODO\n" >"$1/.hidden/h.txt"
seq 1 5000 >"$1/docs/numbers.txt"
ln -s ../lib/add.h "$1/src/app/add.h"
chmod 600 "$1/docs/notes.txt"
find "$1" -exec touch -h -d "2021-06-01 12:00:00" {} +
}'

rp_case_grep_sed_awk() {
  rp_script <<'SH'
tree t
grep -r TODO t | sort
grep -rn -i todo t | sort
grep -rl TODO t --include='*.c' | sort
grep -rL TODO t | sort
grep -rc TODO t --exclude-dir=.hidden | sort
grep -rw add t/src | sort
grep -o '[0-9]*7[0-9]*' t/docs/numbers.txt | tail -3
grep -c -E '^(12|34)[0-9]$' t/docs/numbers.txt
grep -v -e 1 -e 2 -e 3 t/docs/numbers.txt | wc -l
grep -F -x 4999 t/docs/numbers.txt
grep -A1 -B1 '^2500$' t/docs/numbers.txt
grep -q nomatch t/docs/README.md; echo "grep no match: $?"
grep TODO t/nonexistent; echo "grep missing file: $?"
grep -P '\d{4}5$' t/docs/numbers.txt | head -2
grep -rl 'define _STDIO_H' /usr/include/stdio.h
seq 100000 | grep -c 9
sed 's/TODO/DONE/' t/docs/README.md
sed -n '/^#/p; $=' t/docs/README.md
sed -n '10,15p;4990,$p' t/docs/numbers.txt | tr '\n' ' '; echo
sed -E 's/([0-9])([0-9])/\2\1/g' <<<"12 345 6789"
sed '1!G;h;$!d' <<<$'1\n2\n3'
sed -e 'y/abc/xyz/' -e 's/x/[&]/' <<<"aabbcc"
cp t/docs/README.md edit.md
sed -i.bak -e 's/Title/Heading/' -e '/^$/d' edit.md
cat edit.md; cmp -s edit.md.bak t/docs/README.md && echo "sed -i kept a backup"
sed -n '$p' /etc/passwd >/dev/null && echo "sed reads the host's /etc"
awk '{ s += $1 } END { print "sum", s, "avg", s / NR }' t/docs/numbers.txt
awk -F: '$3 == 0 { print $1, $6 }' /etc/passwd
awk 'NR % 1000 == 0' t/docs/numbers.txt | tr '\n' ' '; echo
awk 'BEGIN { for (i = 1; i <= 5; i++) a[i % 3] += i; for (k = 0; k < 3; k++) printf "%d:%d ", k, a[k]; print "" }'
awk '{ w[$1]++ } END { for (k in w) print k, w[k] | "sort"; close("sort"); print "closed" }' <<<$'x\ny\nx\nz\nx'
awk 'BEGIN { "echo from a command" | getline l; print l; system("echo from system"); n = split("a:b:c", p, ":"); print n, p[3], toupper(substr("hello", 2, 3)), length("four") }'
awk 'BEGIN { printf "%5.2f|%-4s|%03d|%x\n", 3.14159, "ab", 7, 255 }'
awk 'BEGIN { srand(1); print int(rand() * 0) }'
awk -v n=3 'FNR <= n { print FILENAME ": " $0 }' t/docs/README.md t/src/lib/add.c
awk '/^[0-9]+$/ && $1 > 4997 { print "big", $1 } /^x/ { print "never" }' t/docs/numbers.txt
perl -pe 's/(\d+)/$1*2/e' <<<"double 21"
SH
  RP_PROG=(bash -c "$RP_TREE"$'\n'"$RP_SCRIPT" bash)
}

rp_case_find_exec() {
  rp_script <<'SH'
tree t
find t | sort
find t -type f -name '*.c' | sort
find t -type d | sort
find t -type l -printf '%p -> %l\n'
find t -empty | sort
find t -name '*.txt' -size -2k | sort
find t -perm 600
find t -maxdepth 1 | sort
find t -mindepth 3 | sort
find t -path '*/lib/*' -prune -o -type f -print | sort
find t -newer t/docs/README.md | sort
touch -d '2030-01-01' t/docs/future; find t -newer t/docs/README.md
find t -type f -printf '%P %s %m %TY-%Tm-%Td\n' | sort
find t -name '*.c' -exec wc -l {} \; | sort
find t -name '*.[ch]' -exec cat {} + | sort | md5sum
find t -type f -name '*.c' -exec sh -c 'echo "$(basename "$1"): $(wc -c <"$1") bytes"' sh {} \; | sort
find t/src -name '*.c' -execdir pwd \; | sed "s|$W|W|" | sort
find t -name '*.h' -print0 | sort -z | xargs -0 ls -l --time-style=+%F | awk '{ print $1, $6, $7, $NF }'
find -L t -name add.h -type f | sort
find t -iname 'readme*'
find t -name nothing; echo "find, no match: $?"
find t/nonexistent; echo "find, missing: $?"
cp -r t t2; find t2 -name '*.txt' -delete; find t2 -type f | sort
find t2 -depth -type d -empty -exec rmdir {} \; ; find t2 | sort
find /usr/include -maxdepth 1 -name 'std*.h' | sort
find /usr/include/linux -name '*.h' -newer /nonexistent 2>&1 | head -1
find /usr/share/zoneinfo/Europe -type f | wc -l
find . -name '*.bak' -o -name 'nothing' | wc -l
SH
  RP_PROG=(bash -c "$RP_TREE"$'\n'"$RP_SCRIPT" bash)
}

# Directories the guest creates, seen from the file system around them:
# find -xdev from /tmp must descend into them, df must find their mount
# (both compare st_dev: with the parent's, with /proc/self/mountinfo).
rp_case_xdev_new_dirs() {
  rp_script <<'SH'
parent=$(dirname "$W")
mkdir -p d/sub && echo x >d/sub/f
[ "$(stat -c %d "$parent")" = "$(stat -c %d "$W")" ] && echo "\$W is on its parent's device"
[ "$(stat -c %d "$W")" = "$(stat -c %d d/sub)" ] && echo "so is d/sub"
find "$parent" -maxdepth 4 -xdev -path "$W/d*" | sed "s|^$W|W|" | sort
df -P d/sub | awk -v p="$parent" 'NR > 1 { print ($NF == "/" || $NF == p) ? "df: on the mount of / or its parent" : "df: mounted on " $NF "?" }' | sed "s|$W|W|"
tar --one-file-system -C "$parent" -cf - "$(basename "$W")/d" | tar -tf - | sed 's|^[^/]*/||' | sort
SH
  RP_PROG=(bash -c "$RP_SCRIPT" bash)
}

rp_case_tar_gzip() {
  rp_script <<'SH'
tree t
# --sort=name, fixed owner and mtime: the archive does not depend on the
# order readdir returns or on when the tree was made.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2022-02-02 UTC' -czf t.tar.gz t
gzip -t t.tar.gz && echo "gzip -t ok"
tar -tzf t.tar.gz
tar -tvzf t.tar.gz | awk '{ print $1, $2, $3, $4, $5, $6 }'
gunzip -c t.tar.gz | md5sum
mkdir out && tar -xzf t.tar.gz -C out
diff -r t out/t && echo "extracted tree matches"
stat -c '%n %a %y' out/t/docs/notes.txt out/t/src/app/add.h
tar -xzf t.tar.gz -O t/src/lib/add.c
tar -czf - t/docs | tar -tzf - | sort
tar -cf plain.tar --sort=name t/src; tar -rf plain.tar t/docs/README.md; tar -tf plain.tar
tar -cf - --sort=name --exclude='*.txt' t | tar -tf -
tar -xzf t.tar.gz --strip-components=2 -C out t/src/lib; ls out
tar -xzf missing.tar.gz; echo "tar, missing archive: $?"
printf 'not a gzip file' >bad.gz; gzip -d bad.gz; echo "gzip -d on garbage: $?"
seq 1 100000 >nums; gzip -9 -k nums; ls nums nums.gz
gzip -l nums.gz | awk 'NR > 1 { print $1, $2, $4 }'
zcat nums.gz | tail -1; gunzip -f nums.gz; wc -l nums
gzip -c nums | gzip -dc | cmp - nums && echo "gzip pipe roundtrip"
# A bigger tree from the host: /usr/include/linux, through gzip and back.
tar -C /usr/include -czf linux.tar.gz linux
tar -tzf linux.tar.gz | sort | md5sum
tar -C /usr/include -cf - linux | md5sum
mkdir ux && tar -xzf linux.tar.gz -C ux && diff -r /usr/include/linux ux/linux && echo "linux headers roundtrip"
SH
  RP_PROG=(bash -c "$RP_TREE"$'\n'"$RP_SCRIPT" bash)
}

# --- make and gcc ---------------------------------------------------------

rp_case_make_c_project() {
  rp_script <<'SH'
mkdir -p proj/src proj/include proj/lib
cd proj
cat >include/calc.h <<'EOF'
#ifndef CALC_H
#define CALC_H
long add(long a, long b);
long mul(long a, long b);
double root(double x);
long sum_threads(int threads, long per_thread);
const char *greeting(void);
#endif
EOF
cat >src/add.c <<'EOF'
#include "calc.h"
long add(long a, long b) { return a + b; }
EOF
cat >src/mul.c <<'EOF'
#include "calc.h"
long mul(long a, long b) { return a * b; }
EOF
cat >src/root.c <<'EOF'
#include <math.h>
#include "calc.h"
double root(double x) { return sqrt(x); }
EOF
cat >src/threads.c <<'EOF'
#include <pthread.h>
#include "calc.h"
static long total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long per;
static void *work(void *arg) {
  (void)arg;
  for (long i = 0; i < per; i++) {
    pthread_mutex_lock(&lock);
    total++;
    pthread_mutex_unlock(&lock);
  }
  return 0;
}
long sum_threads(int n, long per_thread) {
  pthread_t t[16];
  per = per_thread;
  for (int i = 0; i < n; i++) pthread_create(&t[i], 0, work, 0);
  for (int i = 0; i < n; i++) pthread_join(t[i], 0);
  return total;
}
EOF
cat >lib/greet.c <<'EOF'
const char *greeting(void) { return "hello from a shared library"; }
EOF
cat >src/main.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "calc.h"
static int cmp(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}
int main(int argc, char **argv) {
  int v[] = {5, 3, 9, 1, 7};
  qsort(v, 5, sizeof v[0], cmp);
  printf("sorted: %d %d %d %d %d\n", v[0], v[1], v[2], v[3], v[4]);
  printf("add %ld, mul %ld, root %.3f\n", add(40, 2), mul(6, 7), root(2.0));
  printf("threads: %ld\n", sum_threads(4, 20000));
  printf("%s\n", greeting());
  FILE *f = fopen("out.txt", "w");
  if (!f) { perror("fopen"); return 1; }
  fprintf(f, "argc=%d\n", argc);
  fclose(f);
  printf("env CALC=%s\n", getenv("CALC") ? getenv("CALC") : "(unset)");
  return argc > 1 ? atoi(argv[1]) : 0;
}
EOF
cat >Makefile <<'EOF'
CC = gcc
CFLAGS = -O2 -Wall -Wextra -Iinclude
OBJS = build/add.o build/mul.o build/root.o build/threads.o
calc: build/main.o build/libcalc.a build/libgreet.so
	$(CC) -o $@ build/main.o -Lbuild -lcalc -lgreet -Wl,-rpath,'$$ORIGIN/build' -lm -pthread
build/libcalc.a: $(OBJS)
	ar rcs $@ $^
build/libgreet.so: lib/greet.c | build
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $<
build/%.o: src/%.c include/calc.h | build
	$(CC) $(CFLAGS) -c -o $@ $<
build:
	mkdir -p build
check: calc
	./calc
	CALC=set ./calc 3 || echo "calc exited $$?"
	cat out.txt
fail:
	false
.PHONY: check fail clean
clean:
	rm -rf build calc out.txt
EOF
make
make check
make; echo "make again: $?"
touch -d '2000-01-01' build/mul.o
touch include/calc.h
make 2>&1
make fail; echo "make fail: $?"
make -n clean
make clean && ls
make -s && ./calc 5; echo "calc: $?"
nm build/libcalc.a | grep ' T ' | sort
ldd ./calc | grep -c libgreet
gcc -E -P -Iinclude src/add.c | grep add
gcc -S -O2 -o - src/add.c -Iinclude | grep -c 'add:'
printf 'int main(void) { return 42; }\n' | gcc -x c -o ret42 - && ./ret42; echo "ret42: $?"
printf 'int main(void) { undeclared(); }\n' | gcc -x c -o nope - 2>&1 | grep -c -e error -e warning
SH
  RP_PROG=(bash -c "$RP_SCRIPT" bash)
}

# make -j: the jobserver (a pipe of tokens, read in a pselect loop with
# SIGCHLD unblocked only there), a recursive make sharing it.
rp_case_make_parallel() {
  rp_script <<'SH'
mkdir -p par/sub && cd par
for i in 1 2 3 4 5 6; do printf 'int f%s(void) { return %s; }\n' "$i" "$i" >"f$i.c"; done
cat >Makefile <<'EOF'
OBJS = f1.o f2.o f3.o f4.o f5.o f6.o
all: libf.a sub
libf.a: $(OBJS)
	ar rcs $@ $^
%.o: %.c
	gcc -O2 -c -o $@ $<
sub:
	$(MAKE) -s -C sub
.PHONY: sub
EOF
cat >sub/Makefile <<'EOF'
all: a b c d
a b c d:
	sleep 0.1; echo $@ >$@
EOF
make -j2 -s && echo "make -j2 done"
ls sub
nm libf.a | grep -c ' T '
make -j2; echo "again: $?"
SH
  RP_PROG=(bash -c "$RP_SCRIPT" bash)
}

# --- python3 (Debian's; pyenv's shim is first on the usual PATH) -----------

rp_case_python_stdlib() {
  rp_script <<'PY'
import concurrent.futures, hashlib, json, os, queue, sqlite3, subprocess
import sys, tempfile, threading, time

# subprocess
r = subprocess.run(["sh", "-c", "echo out; echo err >&2; exit 3"],
                   capture_output=True, text=True)
print("run:", r.returncode, r.stdout.strip(), r.stderr.strip())
p = subprocess.Popen(["tr", "a-z", "A-Z"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
out, _ = p.communicate(b"through a pipe\n" * 3)
print("communicate:", p.returncode, out.decode().splitlines()[0], len(out))
print("check_output:", subprocess.check_output("seq 100 | awk '{s+=$1} END {print s}'",
                                               shell=True, text=True).strip())
try:
    subprocess.run(["sleep", "5"], timeout=0.3)
except subprocess.TimeoutExpired as e:
    print("timeout:", e.cmd)
try:
    subprocess.check_call(["false"])
except subprocess.CalledProcessError as e:
    print("check_call:", e.returncode)
try:
    subprocess.run(["/nonexistent/prog"])
except FileNotFoundError as e:
    print("missing program:", e.strerror)
big = subprocess.run(["head", "-c", "3000000", "/dev/zero"], capture_output=True)
print("big output:", len(big.stdout))
print("pipeline:", subprocess.run("yes | head -1000 | wc -l", shell=True,
                                  capture_output=True, text=True).stdout.strip())
with subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                      text=True) as p:
    print("popen cat:", p.communicate("x" * 100000)[0].count("x"))

# threading
counter = 0
lock = threading.Lock()
def bump(n):
    global counter
    for _ in range(n):
        with lock:
            counter += 1
threads = [threading.Thread(target=bump, args=(20000,)) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print("threads:", counter)
q = queue.Queue(maxsize=10)
def producer():
    for i in range(1000): q.put(i)
    q.put(None)
got = []
def consumer():
    while (item := q.get()) is not None: got.append(item)
ts = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in ts: t.start()
for t in ts: t.join()
print("queue:", len(got), sum(got))
ev = threading.Event()
threading.Timer(0.1, ev.set).start()
print("event set:", ev.wait(5))
cond = threading.Condition()
ready = []
def waiter():
    with cond:
        cond.wait_for(lambda: ready)
        print("condition:", ready[0])
w = threading.Thread(target=waiter); w.start()
time.sleep(0.05)
with cond:
    ready.append("notified"); cond.notify_all()
w.join()
with concurrent.futures.ThreadPoolExecutor(4) as ex:
    digests = list(ex.map(lambda i: hashlib.sha256(str(i).encode() * 10000).hexdigest()[:8], range(16)))
print("executor:", digests[:3], len(digests))
local = threading.local()
def set_local(v, out):
    local.v = v; time.sleep(0.01); out.append(local.v == v)
res = []
ts = [threading.Thread(target=set_local, args=(i, res)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print("thread-local:", all(res), len(res))
print("active threads:", threading.active_count())

# tempfile
print("tempdir is TMPDIR:", tempfile.gettempdir() == os.environ["TMPDIR"])
with tempfile.TemporaryDirectory() as d:
    for i in range(20):
        with open(os.path.join(d, f"f{i}"), "w") as f: f.write(str(i) * i)
    print("temp dir:", len(os.listdir(d)), sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d)))
    saved = d
print("temp dir removed:", not os.path.exists(saved))
with tempfile.NamedTemporaryFile("w+", suffix=".txt") as f:
    f.write("named temp file\n"); f.flush(); f.seek(0)
    print("named:", f.read().strip(), f.name.endswith(".txt"))
fd, path = tempfile.mkstemp(); os.write(fd, b"abc"); os.close(fd)
print("mkstemp:", open(path).read(), oct(os.stat(path).st_mode & 0o777)); os.unlink(path)
with tempfile.SpooledTemporaryFile(max_size=10) as f:
    f.write(b"x" * 100); f.seek(0); print("spooled:", len(f.read()))

# sqlite3, in WAL mode: a memory-mapped -shm file next to the database
db = sqlite3.connect(os.path.join(os.environ["TMPDIR"], "test.db"))
print("journal:", db.execute("pragma journal_mode=wal").fetchone()[0])
db.execute("create table kv(k integer primary key, v text, n real)")
with db:
    db.executemany("insert into kv(v, n) values(?, ?)",
                   ((hashlib.md5(str(i).encode()).hexdigest(), i / 7) for i in range(5000)))
print("sqlite:", db.execute("select count(*), min(v), round(sum(n), 3) from kv").fetchone())
db.execute("create index iv on kv(v)")
print("indexed:", db.execute("select k from kv where v = ?", (hashlib.md5(b"4242").hexdigest(),)).fetchone())
print("json1:", db.execute("""select json_extract('{"a": [1, 2, {"b": 3}]}', '$.a[2].b')""").fetchone())
db2 = sqlite3.connect(os.path.join(os.environ["TMPDIR"], "test.db"))
print("second connection:", db2.execute("select count(*) from kv").fetchone()[0])
try:
    with db:
        db.execute("insert into kv(k, v) values(1, 'dup')")
except sqlite3.IntegrityError as e:
    print("integrity:", e)
db2.close(); db.close()
mem = sqlite3.connect(":memory:")
mem.execute("create table t(x)"); mem.executemany("insert into t values(?)", [(i,) for i in range(100)])
print("memory db:", mem.execute("select sum(x) from t").fetchone()[0])

# json
doc = {"name": "sentry", "list": [1, 2.5, None, True, "é"], "nested": {"k": [{}]}}
s = json.dumps(doc, sort_keys=True, indent=2)
print(s)
print("roundtrip:", json.loads(s) == doc, json.dumps("é", ensure_ascii=True))
with open("data.json", "w") as f: json.dump([doc] * 100, f)
with open("data.json") as f: print("file:", len(json.load(f)))
try:
    json.loads("{bad json}")
except json.JSONDecodeError as e:
    print("decode error:", e)

# os
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r); os.write(w, b"from the child"); os._exit(7)
os.close(w)
print("fork:", os.read(r, 100).decode(), os.waitpid(pid, 0)[1] >> 8)
print("cwd:", os.getcwd() == os.environ["W"], sorted(os.listdir(".")))
print("environ:", sorted(k for k in os.environ if not k.startswith("LC_")))
sys.stdout.flush()
os.system("echo from os.system")
sys.exit(3)
PY
  RP_PROG=("$RP_PYTHON" -c "$RP_SCRIPT")
}

# multiprocessing.Process with the default (fork) and the spawn start
# methods; the workers live in a module written to $W, so that spawned
# children can import them. Process start, join and exit codes need only
# pipes and fork; Pipe(duplex=False) is a pipe.
RP_MPWORK='
import os
def square(x):
    return x * x
def put_pid(q, tag):
    q.put((tag, os.getpid() != os.getppid()))
def send(conn, tag):
    conn.send((tag, os.getpid() != os.getppid())); conn.close()
def add_many(v, lock, n):
    for _ in range(n):
        with lock:
            v.value += 1
def exit_with(code):
    raise SystemExit(code)
'

rp_case_python_multiprocessing() {
  rp_script <<'PY'
import os, sys, time
open("mpwork.py", "w").write(os.environ["MPWORK"])
sys.path.insert(0, os.getcwd())
import multiprocessing as mp
import mpwork

if __name__ == "__main__":
    print("start method:", mp.get_start_method())
    for method in ("fork", "spawn"):
        ctx = mp.get_context(method)
        r, w = ctx.Pipe(duplex=False)
        procs = [ctx.Process(target=mpwork.send, args=(w, i)) for i in range(3)]
        for pr in procs: pr.start()
        print(method, "pipe:", sorted(r.recv() for _ in procs))
        for pr in procs: pr.join()
        print(method, "exit codes:", [pr.exitcode for pr in procs])
        pr = ctx.Process(target=mpwork.exit_with, args=(4,)); pr.start(); pr.join()
        print(method, "SystemExit(4):", pr.exitcode)
        pr = ctx.Process(target=time.sleep, args=(10,)); pr.start()
        pr.terminate(); pr.join(); print(method, "terminated:", pr.exitcode)
        pr = ctx.Process(target=time.sleep, args=(0.1,), daemon=True); pr.start()
        print(method, "alive:", pr.is_alive(), pr.pid != os.getpid()); pr.join()
        print(method, "alive after join:", pr.is_alive())
    print("cpu_count:", mp.cpu_count() >= 1)
    print("active children:", mp.active_children())
PY
  RP_PROG=(env MPWORK="$RP_MPWORK" "$RP_PYTHON" -c "$RP_SCRIPT")
}

# multiprocessing's Pool, Queue, Value and Lock: their locks are POSIX
# semaphores in /dev/shm, mapped MAP_SHARED by every process that uses them.
rp_case_python_mp_shared() {
  rp_script <<'PY'
import os, sys
open("mpwork.py", "w").write(os.environ["MPWORK"])
sys.path.insert(0, os.getcwd())
import multiprocessing as mp
import mpwork

if __name__ == "__main__":
    with mp.Pool(2) as p:
        print("pool map:", sum(p.map(mpwork.square, range(1000))))
        print("imap_unordered:", sorted(p.imap_unordered(mpwork.square, range(10))))
        print("apply_async:", p.apply_async(mpwork.square, (12,)).get(timeout=30))
    q = mp.Queue()
    procs = [mp.Process(target=mpwork.put_pid, args=(q, i)) for i in range(3)]
    for pr in procs: pr.start()
    print("queue:", sorted(q.get(timeout=30) for _ in procs))
    for pr in procs: pr.join()
    v = mp.Value("i", 0); lock = mp.Lock()
    procs = [mp.Process(target=mpwork.add_many, args=(v, lock, 500)) for _ in range(2)]
    for pr in procs: pr.start()
    for pr in procs: pr.join()
    print("shared value:", v.value)
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as p:
        print("spawn pool:", p.map(mpwork.square, range(5)))
    q = ctx.Queue()
    pr = ctx.Process(target=mpwork.put_pid, args=(q, "spawned")); pr.start()
    print("spawn queue:", q.get(timeout=30)); pr.join()
PY
  RP_PROG=(env MPWORK="$RP_MPWORK" "$RP_PYTHON" -c "$RP_SCRIPT")
}

# AF_UNIX socket pairs: socket.socketpair, across fork, passing file
# descriptors (SCM_RIGHTS), datagrams, multiprocessing.Pipe (a socket pair
# when duplex), asyncio (whose event loop wakes itself through one) and a
# multiprocessing Manager (a server on a named AF_UNIX socket).
rp_case_python_socketpair() {
  rp_script <<'PY'
import asyncio, os, select, socket, sys, threading
import multiprocessing as mp

a, b = socket.socketpair()
print("family:", a.family.name, a.type.name)
a.sendall(b"ping"); print("recv:", b.recv(10))
got = 0
def drain():
    global got
    while got < 1000000: got += len(a.recv(65536))
t = threading.Thread(target=drain); t.start()
b.sendall(b"x" * 1000000); t.join(); print("bulk:", got)
pid = os.fork()
if pid == 0:
    a.close(); b.sendall(b"from the child " + str(os.getpid() != os.getppid()).encode()); os._exit(0)
b.close()
print("fork:", a.recv(100).decode()); os.waitpid(pid, 0)
print("eof:", a.recv(10)); a.close()
a, b = socket.socketpair()
r, w = os.pipe(); os.write(w, b"through a passed fd"); os.close(w)
socket.send_fds(a, [b"fds"], [r]); os.close(r)
msg, fds, flags, addr = socket.recv_fds(b, 100, 1)
print("send_fds:", msg, len(fds), os.read(fds[0], 100).decode())
a.setblocking(False)
try:
    a.recv(10)
except BlockingIOError:
    print("nonblocking: EAGAIN")
b.send(b"ready"); print("select:", select.select([a], [], [], 5)[0] == [a], a.recv(10))
b.shutdown(socket.SHUT_WR); print("after shutdown:", a.recv(10))
a.close(); b.close()
d1, d2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
for m in (b"one", b"two", b"three"): d1.send(m)
print("datagrams:", [d2.recv(100) for _ in range(3)])
s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s1.send(b"packet"); print("seqpacket:", s2.recv(3))
print("peer cred pid matches:", s1.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)[:4] == os.getpid().to_bytes(4, sys.byteorder))

def child(conn):
    conn.send({"msg": conn.recv() * 2}); conn.close()
if __name__ == "__main__":
    parent, c = mp.Pipe()
    pr = mp.Process(target=child, args=(c,)); pr.start()
    parent.send(21); print("mp.Pipe:", parent.recv()); pr.join()

async def main():
    loop = asyncio.get_running_loop()
    r, w = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=r)
    loop.call_later(0.05, w.send, b"line from asyncio\n")
    print("asyncio:", (await reader.readline()).decode().strip())
    proc = await asyncio.create_subprocess_exec("echo", "subprocess", stdout=asyncio.subprocess.PIPE)
    print("asyncio subprocess:", (await proc.communicate())[0].decode().strip())
    writer.close(); w.close()
asyncio.run(main())

path = os.path.join(os.environ["TMPDIR"], "sock")
srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen()
cl = socket.socket(socket.AF_UNIX); cl.connect(path)
conn, _ = srv.accept(); cl.sendall(b"named"); print("named socket:", conn.recv(10))
for s in (conn, cl, srv): s.close()
with mp.Manager() as m:
    d = m.dict(); d["k"] = [1, 2]; print("manager:", dict(d))
PY
  RP_PROG=("$RP_PYTHON" -c "$RP_SCRIPT")
}

# --- perl -----------------------------------------------------------------

rp_case_perl_e() {
  rp_script <<'PL'
use strict; use warnings; $| = 1;
use POSIX qw(strftime); use Digest::MD5 qw(md5_hex); use JSON::PP;
use File::Temp qw(tempfile); use File::Find; use File::Path qw(make_path);
print join(",", map { $_ * $_ } 1 .. 10), "\n";
my %h = (pear => 3, apple => 1, fig => 2);
print join(" ", map { "$_=$h{$_}" } sort { $h{$a} <=> $h{$b} } keys %h), "\n";
my $s = "The year 1999 and 2024";
my @years = $s =~ /(\d{4})/g; print "years: @years\n";
(my $t = $s) =~ s/(\d+)/<$1>/g; print "$t\n";
printf "%.3f %5s|%-5s| %x %o %e\n", 3.14159, "r", "l", 255, 8, 1234.5;
print strftime("%Y-%m-%d %H:%M:%S %a", gmtime(1700000000)), "\n";
print "md5: ", md5_hex("sentry"), "\n";
print JSON::PP->new->canonical->encode({b => [1, 2], a => {c => undef}}), "\n";
print "unpack: ", join(" ", unpack("N n C", pack("N n C", 305419896, 4660, 255))), "\n";
make_path("$ENV{W}/pl/a/b");
open(my $fh, ">", "$ENV{W}/pl/a/b/f.txt") or die; print $fh "line $_\n" for 1 .. 100; close $fh;
open($fh, "<", "$ENV{W}/pl/a/b/f.txt") or die; my @lines = <$fh>; close $fh;
print "lines: ", scalar(@lines), " last: $lines[-1]";
my @found; find(sub { push @found, $File::Find::name if -f }, "$ENV{W}/pl");
print "found: ", join(" ", map { s/^\Q$ENV{W}\E/W/r } @found), "\n";
my ($tfh, $tname) = tempfile(DIR => $ENV{TMPDIR}); print $tfh "temp"; close $tfh;
print "tempfile: ", -s $tname, " bytes\n"; unlink $tname;
my $pid = fork(); if ($pid == 0) { exit 5 } waitpid($pid, 0); print "child exit: ", $? >> 8, "\n";
pipe(my $r, my $w); if (!fork()) { close $r; print $w "via pipe\n"; exit 0 }
close $w; print "pipe: ", scalar(<$r>); wait;
my $out = `echo backticks | tr a-z A-Z`; print "qx: $out";
print "system: ", system("sh", "-c", "exit 3") >> 8, "\n";
open(my $p, "-|", "seq", "5") or die; my @seq = <$p>; close $p; chomp @seq; print "open -|: @seq\n";
open($p, "|-", "wc", "-l") or die; print $p "a\nb\n"; close $p;
opendir(my $dh, "/usr/include/linux") or die; my @hs = sort grep { /^if_.*\.h$/ } readdir $dh; closedir $dh;
print "readdir: ", scalar(@hs) > 5 ? "ok" : "few", " $hs[0]\n";
local $SIG{ALRM} = sub { die "alarm\n" }; eval { alarm 1; select(undef, undef, undef, 5); }; alarm 0;
print "eval: $@";
$SIG{USR1} = sub { print "caught USR1\n" }; kill "USR1", $$; 
print "time sane: ", (time > 1700000000 ? "yes" : "no"), "\n";
my @sorted = sort { $a <=> $b } map { ($_ * 7919) % 10007 } 1 .. 50000; print "sorted: @sorted[0..4]\n";
my %count; $count{$_ % 7}++ for 1 .. 100000; print "buckets: ", join(",", map { $count{$_} } sort keys %count), "\n";
print "sprintf: ", sprintf("%s-%03d", "id", 7), " lc/uc: ", lc("ABC"), uc("def"), " ", scalar reverse("olleh"), "\n";
warn "a warning\n";
exit 2;
PL
  RP_PROG=(perl -e "$RP_SCRIPT" arg1 arg2)
}

# --- git ------------------------------------------------------------------
# Names and dates are fixed, so commit hashes are the same in every run.

rp_case_git_commit_log() {
  rp_script <<'SH'
export GIT_AUTHOR_NAME="A U Thor" GIT_AUTHOR_EMAIL=author@example.com
export GIT_COMMITTER_NAME="C O Mitter" GIT_COMMITTER_EMAIL=committer@example.com
export GIT_CONFIG_NOSYSTEM=1
when() { export GIT_AUTHOR_DATE="2024-01-0$1T12:00:00Z" GIT_COMMITTER_DATE="2024-01-0$1T12:00:00Z"; }
when 1
git config --global init.defaultBranch main
git config --global user.useConfigOnly true
cat "$HOME/.gitconfig"
git init repo
cd repo
printf 'hello\n' >README
mkdir src; printf 'int main(void) { return 0; }\n' >src/main.c
git add .
git status --short
git commit -q -m "first commit"
when 2
printf 'hello\nworld\n' >README
git commit -q -am "second commit"
git checkout -q -b feature
when 3
seq 1 100 >src/numbers; git add src/numbers; git commit -q -m "add numbers"
git checkout -q main
when 4
printf 'other\n' >OTHER; git add OTHER; git commit -q -m "other file"
when 5
git merge -q --no-ff -m "merge feature" feature
git tag -a v1.0 -m "version 1.0"
git log --oneline --graph --all
git log --stat --format='%H %an <%ae> %ad%n  %s' --date=iso-strict
git show --stat HEAD~1
git diff HEAD~3 HEAD -- README
git describe; git rev-parse HEAD HEAD^{tree}
git cat-file -p HEAD
git ls-files -s
git branch -a; git tag -l
git blame -s README
git grep -n hello
git status; git status --short; echo "clean status: $?"
printf 'dirty\n' >>README; git diff --stat; git stash -q; git stash list; git stash pop -q; git status --short
git checkout -q -- README
git gc -q && echo "gc done"; git count-objects | sed 's/, [0-9]* kilobytes//'
git fsck --no-progress && echo "fsck ok"
git clone -q . ../clone && cd ../clone && git log --oneline -n 2 && git remote -v
when 6
git revert --no-edit -m 1 HEAD >/dev/null && echo reverted
git log --oneline -n 1
git reset -q --hard HEAD~1; git log --oneline -n 1
git archive --format=tar HEAD | tar -tf - | sort
git show nosuchref; echo "bad ref: $?"
git log --format=%s --reverse | head -3
SH
  RP_PROG=(bash -c "$RP_SCRIPT" bash)
}
