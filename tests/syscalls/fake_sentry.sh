#!/usr/bin/env bash
# Stand-in for `sentry run --platform=P PROGRAM ARGS...`: execs PROGRAM ARGS
# natively, so the runner's sandbox path can be tested without a Sentry.
set -eu
[ "$1" = run ] || { echo "fake_sentry: expected 'run'" >&2; exit 2; }
shift
case "$1" in --platform=*) shift ;; esac
exec "$@"
