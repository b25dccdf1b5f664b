#!/usr/bin/env python3
"""Function lengths of the C code under a directory (default src/), in lines
from the opening brace to the closing one, at a git revision or in the work
tree: count, median, p90, max and the longest five. For the house-style
figures of the closing notes.

Usage: tools/funclen.py [--rev REV] [DIR]
A function is a line beginning with a name (not a space, '#', '{', '}' or a
comment) and ending in ')' followed by a line "{" and ended by a line "}"
(the layout .clang-format keeps)."""
import argparse
import re
import statistics
import subprocess


def sources(rev, top):
    if rev:
        names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, top], capture_output=True, text=True,
                               check=True).stdout.split()
        for n in names:
            if n.endswith(".c"):
                yield n, subprocess.run(["git", "show", f"{rev}:{n}"], capture_output=True, text=True,
                                        check=True).stdout
    else:
        names = subprocess.run(["git", "ls-files", top], capture_output=True, text=True, check=True).stdout.split()
        for n in names:
            if n.endswith(".c"):
                yield n, open(n).read()


def functions(name, text):
    lines = text.split("\n")
    for i in range(len(lines) - 1):
        head = lines[i]
        if re.match(r"[A-Za-z_]", head) and head.rstrip().endswith(")") and lines[i + 1] == "{":
            end = next((k for k in range(i + 2, len(lines)) if lines[k] == "}"), None)
            if end is not None:
                fn = re.search(r"(\w+)\s*\(", head)
                yield f"{name}:{fn.group(1) if fn else '?'}", end - i


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rev")
    ap.add_argument("dir", nargs="?", default="src")
    a = ap.parse_args()
    found = [f for n, t in sources(a.rev, a.dir) for f in functions(n, t)]
    sizes = sorted(s for _, s in found)
    p90 = sizes[min(len(sizes) - 1, int(0.9 * len(sizes)))]
    print(f"{a.rev or 'work tree'} {a.dir}: {len(sizes)} functions, median {statistics.median(sizes):g}, "
          f"p90 {p90}, max {sizes[-1]} lines")
    for n, s in sorted(found, key=lambda f: -f[1])[:5]:
        print(f"  {s:4} {n}")


if __name__ == "__main__":
    main()
