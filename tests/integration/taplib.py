"""TAP for the Python integration tests (tap.sh is the shell's): a line per
check, its diagnostics when it fails, and the plan at the end."""
import sys

counts = {"tests": 0, "failed": 0}


def tap(ok, desc, diag=""):
    counts["tests"] += 1
    counts["failed"] += not ok
    print(f"{'ok' if ok else 'not ok'} {counts['tests']} - {desc}")
    if diag and not ok:
        print("\n".join("# " + line for line in str(diag).splitlines()))


def skip(desc, why):
    counts["tests"] += 1
    print(f"ok {counts['tests']} - {desc} # SKIP {why}")


def done():
    """The plan line, then exit: 1 when a check failed."""
    print(f"1..{counts['tests']}")
    sys.exit(1 if counts["failed"] else 0)
