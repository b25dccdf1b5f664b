#!/bin/sh
# make check: every test, then the same suite under ASan and UBSan, the
# wrapper under valgrind memcheck, and each fuzz harness for a bounded time.
# Ends with one line "N passed, N failed" counted over all of them.
# Usage: tools/check.sh BUILD [FUZZ_SECONDS]
set -u
build=${1:-build} seconds=${2:-60}
tools=$(dirname "$0")
stage() { echo "=== $1 ($(date +%T))"; }

stage "tests"
meson test -C "$build" --print-errorlogs --num-processes 2

stage "tests under ASan and UBSan (BUILD-asan; not the lab or the package build)"
asan=$build-asan
[ -f "$asan/build.ninja" ] || meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false \
	-Dstatic_wrapper=false > "$asan.setup.log" 2>&1
# halt_on_error turns a UBSan report into a failing test.
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	meson test -C "$asan" --print-errorlogs --num-processes 2 --no-suite lab --no-suite packaging --no-suite style

stage "fuzzing, ${seconds} s per harness"
sh "$tools/fuzz.sh" "$build" "$seconds" | tee "$build/fuzz.tap"

stage "valgrind memcheck"
sh "$tools/valgrind.sh" "$build" | tee "$build/valgrind.tap"

python3 "$tools/tap_count.py" "$build/meson-logs/testlog.json" "$asan/meson-logs/testlog.json" \
	"$build/fuzz.tap" "$build/valgrind.tap"
