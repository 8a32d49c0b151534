#!/usr/bin/env bash
# What a hostile or runaway guest must not be able to do to the Sentry or
# the host:
#  - kill_9: a guest (with a child) that blocks every catchable signal still
#    dies when `sentry run` is sent SIGKILL: within 5 s no process of the
#    sandbox (boot, gofers, stubs) is left on the host.
#  - fork_bomb: an exponential fork bomb run as an unprivileged user with
#    RLIMIT_NPROC=40 gets EAGAIN instead of taking the host down, the
#    Sentry stays responsive (the guest's own parent reports back), and the
#    run ends normally. Natively first, to prove the test itself.
#  - thread_bomb: the same with threads (pthreads count against
#    RLIMIT_NPROC as tasks, as on Linux).
set -uo pipefail

SENTRY="${TEST_SRCDIR}/${TEST_WORKSPACE}/cmd/sentry/sentry"
WORK="${TEST_TMPDIR:-/tmp}/robustness.$$"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# descendants PID: PID and every process below it, one per line.
descendants() {
  local pid="$1" child
  echo "$pid"
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    descendants "$child"
  done
}

# --- kill_9 ---------------------------------------------------------------
blocker='
import os, signal, sys, time
signal.pthread_sigmask(signal.SIG_BLOCK, set(range(1, signal.NSIG)) - {signal.SIGKILL, signal.SIGSTOP})
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(s, signal.SIG_IGN)
if os.fork() == 0:
    time.sleep(300)
    os._exit(0)
print("ready", flush=True)
time.sleep(300)
'
"$SENTRY" run python3 -c "$blocker" >"$WORK/kill9.out" 2>&1 &
run_pid=$!
for _ in $(seq 100); do
  grep -q ready "$WORK/kill9.out" 2>/dev/null && break
  sleep 0.1
done
if ! grep -q ready "$WORK/kill9.out"; then
  fail "kill_9: the guest never started: $(cat "$WORK/kill9.out")"
  kill -9 "$run_pid" 2>/dev/null
else
  tree=$(descendants "$run_pid")
  count=$(echo "$tree" | wc -l)
  # SIGTERM first: the guest ignores it, so the sandbox must still be up.
  kill -TERM "$run_pid"
  sleep 0.3
  if ! kill -0 "$run_pid" 2>/dev/null; then
    fail "kill_9: SIGTERM ended a guest that ignores it"
  fi
  kill -9 "$run_pid"
  wait "$run_pid" 2>/dev/null
  left=""
  for _ in $(seq 50); do
    left=""
    for p in $tree; do
      # Zombies do not count: their parent (this shell) reaps them.
      if [ -e /proc/"$p" ] && ! grep -q '^State:.*Z' /proc/"$p"/status 2>/dev/null; then
        left="$left $p"
      fi
    done
    [ -z "$left" ] && break
    sleep 0.1
  done
  if [ -n "$left" ]; then
    fail "kill_9: processes left 5 s after SIGKILL:$left"
    for p in $left; do cat /proc/"$p"/comm 2>/dev/null; done
    for p in $left; do kill -9 "$p" 2>/dev/null; done
  else
    echo "ok: kill_9 ($count host processes, all gone)"
  fi
fi

# --- fork_bomb / thread_bomb ---------------------------------------------
# Every process forks as many children as it can; children do the same.
# Exit code 1 (or a child's 1) means some fork failed with EAGAIN.
bomb='
import os, resource, sys, threading, time
resource.setrlimit(resource.RLIMIT_NPROC, (40, 40))
os.setgroups([]); os.setgid(65534); os.setuid(65534)
mode = sys.argv[1]
def forker(depth):
    hit = 0
    kids = []
    for _ in range(3 if depth < 6 else 0):
        try:
            pid = os.fork()
        except BlockingIOError:
            hit = 1
            break
        if pid == 0:
            os._exit(forker(depth + 1))
        kids.append(pid)
    for pid in kids:
        _, status = os.waitpid(pid, 0)
        hit |= os.waitstatus_to_exitcode(status) == 1
    return hit
if mode == "fork":
    print("eagain" if forker(0) else "unbounded", flush=True)
else:
    stop = threading.Event()
    threads = []
    try:
        for _ in range(200):
            t = threading.Thread(target=stop.wait)
            t.start()
            threads.append(t)
        print("unbounded", flush=True)
    except RuntimeError:
        print("eagain", flush=True)
    stop.set()
    for t in threads:
        t.join()
print("alive", flush=True)
'
for mode in fork thread; do
  for where in native sentry; do
    if [ "$where" = native ]; then
      out=$(cd / && timeout 60 python3 -c "$bomb" "$mode" 2>&1)
    else
      out=$(cd / && timeout 120 "$SENTRY" run python3 -c "$bomb" "$mode" 2>&1)
    fi
    rc=$?
    if [ "$rc" -ne 0 ] || [ "$out" != "$(printf 'eagain\nalive')" ]; then
      fail "${mode}_bomb ($where): exit $rc, output: $out"
    else
      echo "ok: ${mode}_bomb ($where)"
    fi
  done
done

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
