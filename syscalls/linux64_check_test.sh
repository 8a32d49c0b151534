#!/bin/sh
# Runs linux64_check.py on the table (Bazel 4's py_test wants `python`).
exec python3 syscalls/linux64_check.py syscalls/linux64.inc
