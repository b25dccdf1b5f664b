#!/usr/bin/env python3
"""Counts TAP test cases in meson's testlog.json and prints
"N passed, N failed[, N skipped]". A test program that failed without a
TAP "not ok" line (crash, timeout) counts as one failure."""
import json
import re
import sys

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        out = t.get("stdout") or ""
        ok = len(re.findall(r"^ok\b(?!.*# SKIP)", out, re.M))
        skip = len(re.findall(r"^ok\b.*# SKIP", out, re.M))
        bad = len(re.findall(r"^not ok\b", out, re.M))
        if t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL") and bad == 0:
            bad = 1
        passed += ok
        skipped += skip
        failed += bad
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
