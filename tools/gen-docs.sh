#!/usr/bin/env bash
# Regenerates docs/compatibility.md from the syscall table.
set -euo pipefail
cd "$(dirname "$0")/.."
bazel run //cmd/sentry -- syscalls --format=markdown > docs/compatibility.md
