#!/usr/bin/env python3
"""Checks syscalls/linux64.inc against the system's x86-64 syscall numbers.

Usage: linux64_check.py [linux64.inc] [unistd_64.h]

Exits non-zero, listing every problem, if the table is missing a number, has
a number that the header does not define, repeats a number, is out of order,
names a number differently from __NR_<name>, or has a malformed line (unknown
kind, nargs outside 0-6, bad note string).
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_INC = os.path.join(HERE, "linux64.inc")
DEFAULT_HDR = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"

DEFINE_RE = re.compile(r"^\s*#\s*define\s+__NR_(\w+)\s+(\d+)\b")
NOTE = r'"(?:[^"\\]|\\.)*"'
IDENT = r"[A-Za-z_]\w*"
ENTRY_RES = {
    "SUPPORTED": re.compile(
        rf"^SUPPORTED\((\d+), ({IDENT}), (\d+), ({IDENT}), ({NOTE})\)$"),
    "PARTIAL": re.compile(
        rf"^PARTIAL\((\d+), ({IDENT}), (\d+), ({IDENT}), ({NOTE})\)$"),
    "UNSUPPORTED": re.compile(
        rf"^UNSUPPORTED\((\d+), ({IDENT}), (\d+), ({NOTE})\)$"),
}


def parse_header(path):
    nrs = {}
    errors = []
    with open(path) as f:
        for line in f:
            m = DEFINE_RE.match(line)
            if not m:
                continue
            name, nr = m.group(1), int(m.group(2))
            if nr in nrs:
                errors.append(f"{path}: number {nr} defined twice "
                              f"({nrs[nr]}, {name})")
            nrs[nr] = name
    return nrs, errors


def parse_table(path):
    """Returns ([(lineno, nr, name, nargs)], errors)."""
    entries = []
    errors = []
    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            stripped = line.strip()
            if not stripped or stripped.startswith("//"):
                continue
            kind = stripped.split("(", 1)[0]
            rx = ENTRY_RES.get(kind)
            m = rx.match(line) if rx else None
            if not m:
                errors.append(f"{path}:{lineno}: malformed line: {line}")
                continue
            nr, name, nargs = int(m.group(1)), m.group(2), int(m.group(3))
            if not 0 <= nargs <= 6:
                errors.append(f"{path}:{lineno}: {name}: nargs {nargs} "
                              "not in 0-6")
            entries.append((lineno, nr, name, nargs))
    return entries, errors


def main(argv):
    inc = argv[1] if len(argv) > 1 else DEFAULT_INC
    hdr = argv[2] if len(argv) > 2 else DEFAULT_HDR

    want, errors = parse_header(hdr)
    entries, table_errors = parse_table(inc)
    errors += table_errors
    if not want:
        errors.append(f"{hdr}: no __NR_ defines found")

    seen = {}
    prev_nr = None
    for lineno, nr, name, _ in entries:
        if nr in seen:
            errors.append(f"{inc}:{lineno}: duplicate number {nr} "
                          f"(first at line {seen[nr]})")
        else:
            seen[nr] = lineno
        if prev_nr is not None and nr <= prev_nr:
            errors.append(f"{inc}:{lineno}: {nr} {name} out of order "
                          f"(follows {prev_nr})")
        prev_nr = nr
        if nr not in want:
            errors.append(f"{inc}:{lineno}: {nr} {name} not defined in {hdr}")
        elif want[nr] != name:
            errors.append(f"{inc}:{lineno}: {nr} is named {name}, "
                          f"header says __NR_{want[nr]}")

    for nr in sorted(set(want) - set(seen)):
        errors.append(f"{inc}: missing {nr} {want[nr]}")

    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        print(f"FAIL: {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"OK: {len(entries)} entries match {hdr} "
          f"(0..{max(want)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
