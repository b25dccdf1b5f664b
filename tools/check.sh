#!/bin/sh
# Runs the whole test suite through meson and ends with the line
# "N passed, N failed" counted from every TAP test case.
set -u
build=${1:-build}
meson test -C "$build" --print-errorlogs --num-processes 2
rc=$?
python3 "$(dirname "$0")/tap_count.py" "$build/meson-logs/testlog.json"
count_rc=$?
[ $rc -eq 0 ] && [ $count_rc -eq 0 ]
