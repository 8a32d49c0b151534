#!/usr/bin/env python3
"""Writes compile_commands.json (for clangd and other editors) from `bazel aquery`.

Usage: python3 tools/compile_commands.py   (from the workspace root)
"""
import json
import subprocess

out = subprocess.run(
    ["bazel", "aquery", 'mnemonic("CppCompile", //...)', "--output=jsonproto",
     "--noshow_progress", "--ui_event_filters=-info"],
    check=True, capture_output=True, text=True).stdout
execroot = subprocess.run(["bazel", "info", "execution_root"], check=True,
                          capture_output=True, text=True).stdout.strip()
entries = []
for action in json.loads(out).get("actions", []):
    args = action["arguments"]
    src = args[args.index("-c") + 1]
    entries.append({"directory": execroot, "arguments": args, "file": src})
with open("compile_commands.json", "w") as f:
    json.dump(entries, f, indent=1)
print(f"wrote {len(entries)} entries to compile_commands.json")
