#!/usr/bin/env python3
"""Counts test cases and prints "N passed, N failed[, N skipped]".

Arguments are meson testlog.json files (every TAP test case in each test's
stdout; a test program that failed without a "not ok" line, a crash or a
timeout, counts as one failure) and plain TAP files (from the fuzz and
valgrind stages). A missing file counts as one failure: its stage did not
run to the end."""
import json
import re
import sys

passed = failed = skipped = 0


def tap(out):
    ok = len(re.findall(r"^ok\b(?!.*# SKIP)", out, re.M))
    skip = len(re.findall(r"^ok\b.*# SKIP", out, re.M))
    bad = len(re.findall(r"^not ok\b", out, re.M))
    return ok, skip, bad


for path in sys.argv[1:]:
    try:
        text = open(path).read()
    except OSError:
        failed += 1
        print(f"{path}: missing: its stage did not finish", file=sys.stderr)
        continue
    if path.endswith(".json"):
        for line in text.splitlines():
            t = json.loads(line)
            ok, skip, bad = tap(t.get("stdout") or "")
            if t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL") and bad == 0:
                bad = 1
            passed, skipped, failed = passed + ok, skipped + skip, failed + bad
    else:
        ok, skip, bad = tap(text)
        passed, skipped, failed = passed + ok, skipped + skip, failed + bad
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
