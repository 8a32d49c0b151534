#!/usr/bin/env bash
# Installs what building and testing sentry needs on Debian 12, as root.
# Idempotent: packages already present are skipped without touching apt.
set -euo pipefail

packages=(
  bazel-bootstrap bazel-rules-java build-essential
  libseccomp-dev libabsl-dev libprotobuf-dev protobuf-compiler
  libmimalloc-dev libgtest-dev libgmock-dev libbenchmark-dev
  musl-tools python3 git bc
  sqlite3 coreutils findutils busybox-static
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
